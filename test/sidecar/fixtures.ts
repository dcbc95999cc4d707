import path from 'node:path';

export const STORIES = path.resolve(__dirname, '../../../shared/models/stories260K');
export const STORIES_SPEC = { kind: 'llama2c' as const, bin: path.join(STORIES, 'stories260K.bin'), tokenizer: path.join(STORIES, 'tok512.bin') };
