// What of an experiment may be stored: URLs lose their userinfo and secret-looking query parameters (the request
// itself still uses the URL as given). Nothing but the public URL reaches the manifest, records, cache or viewer.
import { parseEndpoint } from '../backends/openai/endpoint';
import type { Experiment } from '../model/experiment';

export function publicUrlOf(url: string): string {
  try {
    return parseEndpoint(url).publicUrl;
  } catch {
    // not a URL we could parse: keep only what cannot be a credential
    return url.replace(/\/\/[^/@]*@/, '//').replace(/[?#].*$/, '');
  }
}

export function publicExperiment(exp: Experiment): Experiment {
  return {
    ...exp,
    ...(exp.backend ? { backend: { ...exp.backend, ...(exp.backend.baseUrl !== undefined ? { baseUrl: publicUrlOf(exp.backend.baseUrl) } : {}) } } : {}),
    ...(exp.scorers ? { scorers: exp.scorers.map((s) => (s.url !== undefined ? { ...s, url: publicUrlOf(s.url) } : s)) } : {}),
  };
}
