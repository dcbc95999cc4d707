export { STORIES, STORIES_SPEC } from '../support/data';
