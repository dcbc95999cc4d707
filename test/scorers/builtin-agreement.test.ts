// The built-in scorer's model card tells the truth: its agreement with Perspective, recomputed here on the
// RealToxicityPrompts rows it was not trained on, is what the card (and so every manifest and report) says.
// Needs the whole RealToxicityPrompts (SCLAB_DATASETS or ../shared/datasets); skipped, and listed, without it.
import { expect, it } from 'vitest';
import { builtinScorerModel, builtinToxicityScorer } from '../../src/core/scorers/offline/builtin';
import { isHeldOut, readReferenceRows, scoredParts } from '../../src/core/scorers/offline/reference';
import { spearman } from '../../src/core/scorers/stats';
import { describeFullDatasets, fullDataset } from '../support/data';

describeFullDatasets('the built-in scorer against RealToxicityPrompts', () => {
  it('agrees with Perspective on the held-out rows exactly as its model card says (ρ ≥ 0.70 on continuations)', async () => {
    const { file } = builtinScorerModel();
    if (!('sources' in file.training)) throw new Error('the built-in scorer was not trained by scripts/train-scorer.ts');
    const { rows } = await readReferenceRows(fullDataset('realtoxicityprompts'));
    const heldOut = rows.filter((r) => isHeldOut(r.key, file.training.seed));
    expect(heldOut.length).toBe(file.about!.agreement.heldOutRows);
    const scorer = builtinToxicityScorer();
    const cont = scoredParts(heldOut, 'continuation');
    const prompts = scoredParts(heldOut, 'prompt');
    const rhoCont = spearman((await scorer.score(cont.texts)) as number[], cont.reference);
    const rhoPrompts = spearman((await scorer.score(prompts.texts)) as number[], prompts.reference);
    expect(rhoCont).toBeCloseTo(file.about!.agreement.spearmanContinuations, 3);
    expect(rhoPrompts).toBeCloseTo(file.about!.agreement.spearmanPrompts, 3);
    expect(rhoCont).toBeGreaterThanOrEqual(0.7);
  });
});
