// Hidden-state probes ("morality levels"): probe files, training, scoring, and the run-time extension.
export { PROBE_SCHEMA, ProbeFileSchema, type ProbeFile, type ProbeFileInput, type ProbeLayer, type ProbeModel, type ProbeVariant } from './schema';
export { parseProbe, checkProbeIdentity, type LoadedProbe, type ProbeLayerVector } from './probe';
export { loadProbeFile, writeProbeFile } from './load';
export { scoreHiddenStates } from './score';
export { trainLogistic, predictProbability, accuracy, type LogisticModel, type LogisticOptions } from './logistic';
export { minimizeLbfgs } from './lbfgs';
export { splitStratified, seededRandom, type Balance, type Split } from './split';
export { fitLogisticLayers, fitClassifierDirection, fitStatementsDirection, fitContrastDirection, defaultBand, type FitReport } from './fit';
export { trainProbe, DEFAULT_MAX_TOKENS, type TrainProbeOptions, type TrainedProbe } from './train';
export { createProbeExtension } from './probe-extension';
export { encodeF32, decodeVector, cosine } from './vectors';
export { interventionFromProbe, parseLayerBand, type SteerSettings } from './steer';
