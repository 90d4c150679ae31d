import type { FunnelResult, ProcessDetail, StageDurationsResult, WinLossResult, WinProbabilityCalibrationResult } from '@stagecraft/contracts';
import { formatAmounts, formatCalendarDay, secondsToDays } from './format';

// The analysts' charts as plain series, from the analytics API's answers. The same series feed the
// chart and the figures table under it, so what is drawn is what the table says. Pure (no DOM).

type Definition = ProcessDetail['definition'];

export interface FunnelStep {
  readonly key: string;
  readonly name: string;
  readonly reached: number;
  /** To the next step (the last stage's is to Won); null for Won itself or with nobody reached. */
  readonly conversionToNext: number | null;
}

export function funnelSteps(answer: FunnelResult, definition: Definition): FunnelStep[] {
  const process = answer.processes.find((candidate) => candidate.processId === definition.id);
  if (!process) return [];
  const stages = process.stages.map((stage, index, all) => ({
    key: stage.stageId,
    name: stageName(definition, stage.stageId),
    reached: stage.reached,
    conversionToNext: index === all.length - 1 ? process.conversionLastToWon : stage.conversionToNext,
  }));
  return [...stages, { key: 'won', name: 'Won', reached: process.won, conversionToNext: null }];
}

export interface StageDurationRow {
  readonly key: string;
  readonly name: string;
  readonly visits: number;
  readonly medianSeconds: number | null;
  readonly p90Seconds: number | null;
  readonly medianDays: number | null;
  readonly p90Days: number | null;
  readonly openNow: number;
}

export function stageDurationRows(answer: StageDurationsResult, definition: Definition): StageDurationRow[] {
  const process = answer.processes.find((candidate) => candidate.processId === definition.id);
  return (process?.stages ?? []).map((stage) => ({
    key: stage.stageId,
    name: stageName(definition, stage.stageId),
    visits: stage.completed.count,
    medianSeconds: stage.completed.medianSeconds,
    p90Seconds: stage.completed.p90Seconds,
    medianDays: secondsToDays(stage.completed.medianSeconds),
    p90Days: secondsToDays(stage.completed.p90Seconds),
    openNow: stage.open.count,
  }));
}

export interface OutcomeRow {
  readonly key: string;
  readonly won: number;
  readonly lost: number;
  readonly winRate: number | null;
  /** Per currency ("€1,500 · $200"): never one sum of several. */
  readonly amountWon: string;
  readonly amountLost: string;
}

export function winLossByTeam(answer: WinLossResult): OutcomeRow[] {
  return (answer.groups ?? []).map((group) => ({
    key: group.key ?? 'no team',
    won: group.won,
    lost: group.lost,
    winRate: group.winRate,
    amountWon: formatAmounts(group.amountWonByCurrency),
    amountLost: formatAmounts(group.amountLostByCurrency),
  }));
}

export interface MoneyRow {
  readonly currency: string;
  readonly won: number;
  readonly lost: number;
}

/** Amount won beside amount lost, one row per currency (a bar pair each: currencies are not added). */
export function amountsWonAndLost(answer: WinLossResult): MoneyRow[] {
  const { amountWonByCurrency: won, amountLostByCurrency: lost } = answer.total;
  const currencies = [...new Set([...Object.keys(won), ...Object.keys(lost)])].sort();
  return currencies.map((currency) => ({ currency: currency === 'unspecified' ? 'no currency' : currency, won: won[currency] ?? 0, lost: lost[currency] ?? 0 }));
}

export interface WonReasonRow {
  readonly reason: string;
  readonly won: number;
}

/** Why deals were won (processes that list wonReasons), from the win/loss total. */
export function wonReasons(answer: WinLossResult): WonReasonRow[] {
  return Object.entries(answer.total.wonReasons).map(([reason, won]) => ({ reason, won }));
}

export interface LostReasonRow {
  readonly reason: string;
  readonly lost: number;
}

/** From win-loss grouped by reason: only the groups that lost something (won deals have no reason). */
export function lostReasons(answer: WinLossResult): LostReasonRow[] {
  return (answer.groups ?? []).filter((group) => group.key !== null && group.lost > 0).map((group) => ({ reason: group.key!, lost: group.lost }));
}

function stageName(definition: Definition, stageId: string): string {
  return definition.stages.find((stage) => stage.id === stageId)?.name ?? stageId;
}

export interface ReliabilityPoint {
  /** The bin, e.g. "20–30%". */
  readonly bin: string;
  readonly learnedCount: number;
  readonly learnedPredicted: number | null;
  readonly learnedObserved: number | null;
  readonly configuredCount: number;
  readonly configuredPredicted: number | null;
  readonly configuredObserved: number | null;
}

/** The reliability plot's points: per bin, mean predicted against observed win rate (percent), learned and configured. */
export function reliabilityPoints(answer: WinProbabilityCalibrationResult): ReliabilityPoint[] {
  return answer.bins.map(({ from, to, learned, configured }) => ({
    bin: `${from}–${to}%`,
    learnedCount: learned.count,
    learnedPredicted: learned.meanPredicted,
    learnedObserved: learned.observedWinRate,
    configuredCount: configured.count,
    configuredPredicted: configured.meanPredicted,
    configuredObserved: configured.observedWinRate,
  }));
}

/**
 * A period (two date inputs' values, yyyy-mm-dd) whose first day is after its last, said in the
 * rep's days; null when it is in order or open at either end. Checked before anything is asked: the
 * API's refusal named UTC instants ("from (2026-03-19T23:00:00.000Z) is after to …"), not the days
 * the rep picked. `what`: which period, when the page has several ("Waterfall").
 */
export function periodOutOfOrder(from: string, to: string, what = ''): string | null {
  const day = /^\d{4}-\d{2}-\d{2}$/;
  if (!day.test(from) || !day.test(to) || from <= to) return null;
  return `${what ? `${what}: ` : ''}From (${formatCalendarDay(from)}) is after To (${formatCalendarDay(to)}): choose a From on or before the To.`;
}
