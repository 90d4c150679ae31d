import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessDefinitionError } from './process-definition.error';
import { parseProcessDefinition } from './process-definition.parser';

const SOURCE = 'config/processes/broken.yaml';
const STANDARD_FILE = join(__dirname, '..', '..', '..', 'config', 'processes', 'standard.yaml');

const valid = `id: demo
name: Demo
stages:
  - id: new
    name: New
    probability: 10
  - id: qualification
    name: Qualification
    probability: 20
    exitCriteria:
      - { id: need-confirmed, description: The need is confirmed }
rules:
  winFrom: [qualification]
lostReasons: [price]
`;

function problemsOf(text: string): ProcessDefinitionError {
  try {
    parseProcessDefinition(text, SOURCE);
  } catch (error) {
    if (error instanceof ProcessDefinitionError) return error;
    throw error;
  }
  throw new Error('expected the definition to be refused');
}

/** Asserts one issue with that path and a reason matching, and that the message names all three. */
function expectIssue(text: string, path: string, reason: RegExp, line?: number): void {
  const error = problemsOf(text);
  const issue = error.issues.find((candidate) => candidate.path === path);
  expect(issue).toBeDefined();
  expect(issue!.reason).toMatch(reason);
  if (line !== undefined) expect(issue!.line).toBe(line);
  expect(error.message).toContain(SOURCE);
  expect(error.message).toContain(path || '(document)');
  expect(error.message).toContain(issue!.reason);
}

describe('parseProcessDefinition', () => {
  it('reads the shipped seed process exactly as DESIGN.md §3 describes it', () => {
    const standard = parseProcessDefinition(readFileSync(STANDARD_FILE, 'utf8'), STANDARD_FILE);
    expect(standard.stages.map((stage) => [stage.id, stage.probability, stage.exitCriteria.length])).toEqual([
      ['new', 10, 0],
      ['qualification', 20, 5],
      ['proposition', 50, 3],
      ['negotiation', 80, 3],
    ]);
    expect(standard.stages[1]!.exitCriteria.map((c) => c.id)).toEqual(['need-confirmed', 'budget-confirmed', 'pain-points', 'goals', 'decision-maker']);
    expect(standard.rules).toEqual({ allowSkipping: false, allowBackward: true, winFrom: ['negotiation'] });
    expect(standard.lostReasons).toEqual(['price', 'competitor', 'no-budget', 'no-decision', 'timing', 'other']);
    expect(standard.teams).toEqual(['direct', 'partners']);
  });

  it('applies the defaults: no skipping, going back allowed, won from the last stage, any team', () => {
    const minimal = parseProcessDefinition('id: m\nname: M\nstages: [{ id: a, name: A, probability: 5 }, { id: b, name: B, probability: 50 }]\nlostReasons: [other]\n', 'm.yaml');
    expect(minimal.rules).toEqual({ allowSkipping: false, allowBackward: true, winFrom: ['b'] });
    expect(minimal.teams).toEqual([]);
    expect(minimal.stages[0]!.exitCriteria).toEqual([]);
  });

  it('accepts the valid example used by the cases below', () => {
    expect(parseProcessDefinition(valid, SOURCE).id).toBe('demo');
  });

  describe('refuses, naming the file, the field and the reason', () => {
    it('a duplicate stage id', () => {
      expectIssue(valid.replace('id: qualification', 'id: new'), 'stages[1].id', /duplicate stage id "new" \(already used by stages\[0\]\)/, 7);
    });

    it('a duplicate exit criterion id within a stage', () => {
      const text = valid.replace('      - { id: need-confirmed, description: The need is confirmed }', '      - { id: need-confirmed, description: A }\n      - { id: need-confirmed, description: B }');
      expectIssue(text, 'stages[1].exitCriteria[1].id', /duplicate exit criterion id "need-confirmed"/);
    });

    it('an unknown stage in winFrom, listing the known ones', () => {
      expectIssue(valid.replace('winFrom: [qualification]', 'winFrom: [closing]'), 'rules.winFrom[0]', /unknown stage "closing"; known stages: new, qualification/, 13);
    });

    it('an empty stage list, and a missing one', () => {
      expectIssue('id: x\nname: X\nstages: []\nlostReasons: [price]\n', 'stages', /at least one stage/, 3);
      expectIssue('id: x\nname: X\nlostReasons: [price]\n', 'stages', /is required/);
    });

    it('a probability outside 0–100, or not a number', () => {
      expectIssue(valid.replace('probability: 20', 'probability: 120'), 'stages[1].probability', /from 0 to 100 \(got 120\)/, 9);
      expectIssue(valid.replace('probability: 10', 'probability: -1'), 'stages[0].probability', /from 0 to 100 \(got -1\)/);
      expectIssue(valid.replace('probability: 10', 'probability: "high"'), 'stages[0].probability', /got "high"/);
    });

    it('rotAfterDays that is not a whole number of days from 1 to 3650', () => {
      for (const bad of ['0', '-3', '2.5', '"a week"', '4000']) {
        expectIssue(valid.replace('    probability: 10', `    probability: 10\n    rotAfterDays: ${bad}`), 'stages[0].rotAfterDays', /whole number of days from 1 to 3650/);
      }
    });

    it('wonReasons that are empty, not ids, or repeated', () => {
      expectIssue(valid + 'wonReasons: []\n', 'wonReasons', /must not be empty/);
      expectIssue(valid + 'wonReasons: [Great Price]\n', 'wonReasons[0]', /must be an id/);
      expectIssue(valid + 'wonReasons: [price, price]\n', 'wonReasons[1]', /duplicate "price"/);
    });

    it('teams given as an empty list, which would read as every team', () => {
      expectIssue(valid + 'teams: []\n', 'teams', /must not be empty: leave it out to allow every team/);
      expect(parseProcessDefinition(valid + 'teams: [direct]\n', SOURCE).teams).toEqual(['direct']);
    });

    it('names and descriptions with nothing visible, or a control or direction character', () => {
      expectIssue(valid.replace('name: Demo', 'name: "\\u200b"'), 'name', /must have a visible character/);
      expectIssue(valid.replace('name: Demo', 'name: "\\u200b \\u2060"'), 'name', /must have a visible character/);
      // Default-ignorable and blank characters draw nothing either: the rule a deal's title follows.
      expectIssue(valid.replace('name: Demo', 'name: "\\u3164\\u115f"'), 'name', /must have a visible character/);
      expectIssue(valid.replace('name: Demo', 'name: "\\u2800 \\u3164"'), 'name', /must have a visible character/);
      expectIssue(valid.replace('name: Demo', 'name: "abc\\u202edef"'), 'name', /control or direction character U\+202E/);
      expectIssue(valid.replace('name: Demo', 'name: "a\\u2066b"'), 'name', /U\+2066/);
      expectIssue(valid.replace('description: The need is confirmed', 'description: "The need\\u001b[2J is confirmed"'), 'stages[1].exitCriteria[0].description', /control character/);
      // A description may span lines.
      expect(parseProcessDefinition(valid.replace('name: Demo', 'name: Demo\ndescription: "First line\\nsecond line\\ttabbed"'), SOURCE).description).toBe('First line\nsecond line\ttabbed');
    });

    it('unknown keys, at any level, listing the allowed ones', () => {
      expectIssue(valid.replace('name: Demo', 'name: Demo\ncolour: blue'), 'colour', /unknown key "colour"; allowed here: id, name/);
      expectIssue(valid.replace('    probability: 10', '    probability: 10\n    owner: bob'), 'stages[0].owner', /unknown key "owner"/);
      expectIssue(valid.replace('winFrom: [qualification]', 'winFrom: [qualification]\n  allowSkiping: true'), 'rules.allowSkiping', /unknown key "allowSkiping"/);
    });

    it('a YAML merge key, saying merges are not read rather than only that "<<" is unknown', () => {
      // YAML 1.2 has no merge keys: "<<" is read as a key, so the stage merging its name and probability lacked both.
      const text = valid.replace('    name: New\n    probability: 10', '    <<: { name: New, probability: 10 }');
      expectIssue(text, 'stages[0].<<', /merge keys \(<<\) are not read: write the keys out/, 5);
    });

    it('a stage named like an outcome', () => {
      expectIssue(valid.replace('id: qualification', 'id: won'), 'stages[1].id', /reserved for outcomes/);
    });

    it('ids that could not be used in stream names and URLs', () => {
      expectIssue(valid.replace('id: demo', 'id: "Demo Process"'), 'id', /must be an id/);
    });

    it('missing or empty lost reasons', () => {
      expectIssue(valid.replace('lostReasons: [price]', 'lostReasons: []'), 'lostReasons', /must not be empty/);
      expectIssue(valid.replace('lostReasons: [price]\n', ''), 'lostReasons', /is required/);
    });

    it('a rule of the wrong type', () => {
      expectIssue(valid.replace('winFrom: [qualification]', 'allowBackward: "yes"'), 'rules.allowBackward', /true or false/);
    });

    it('YAML that does not parse, with its line', () => {
      expectIssue('id: x\nname: [unclosed\n', '', /YAML syntax/);
      expectIssue('id: x\nid: y\nname: X\n', '', /YAML syntax: Map keys must be unique: "id" is given again \(first at line 1\)/, 2);
    });

    it('a key given twice at any depth, however it is quoted; keys that only look alike are two keys', () => {
      expectIssue(valid.replace('    probability: 10', '    probability: 10\n    "probability": 11'), '', /"probability" is given again \(first at line 6\)/, 7);
      expectIssue(valid.replace('{ id: need-confirmed, description: The need is confirmed }', '{ id: need-confirmed, description: A, description: B }'), '', /"description" is given again/, 11);
      expectIssue(valid + 'x: [{ a: 1 }, [{ b: 1, b: 2 }]]\n', '', /"b" is given again/, 15);
      // 1 and "1" are two keys to YAML: refused here as unknown keys, not as a repetition.
      expectIssue(valid + '1: a\n"1": b\n', '1', /unknown key "1"/);
    });

    it('an unknown key that YAML reads as a number, a boolean or null, at its own line', () => {
      // Their positions were looked up by the key's text, which finds no such key: the line given was the mapping's first.
      expectIssue(valid + 'true: a\n', 'true', /unknown key "true"/, 15);
      expectIssue(valid.replace('    probability: 10', '    probability: 10\n    2: x'), 'stages[0].2', /unknown key "2"/, 7);
      expectIssue(valid.replace('    probability: 20', '    probability: 20\n    null: x'), 'stages[1].', /unknown key ""/, 10);
    });

    it('a file of tens of thousands of keys, at once, listing the first problems and counting them all', () => {
      // Each key was compared with every earlier one, and each problem's position looked up from the
      // root: start-up stayed busy for minutes on a file a quarter of the size allowed.
      const keys = Array.from({ length: 40_000 }, (_, index) => `    k${index}: 1`).join('\n');
      const error = problemsOf(valid.replace('    probability: 10', `    probability: 10\n${keys}`));
      expect(error.total).toBe(40_000);
      expect(error.issues).toHaveLength(100);
      expect(error.issues[0]).toMatchObject({ path: 'stages[0].k0', line: 7 });
      expect(error.message.split('\n')[0]).toBe(`Invalid process definition ${SOURCE} (40000 problems; the first 100 listed):`);
      const repeated = `${keys}\n    k0: 2`;
      expect(problemsOf(valid.replace('    probability: 10', `    probability: 10\n${repeated}`)).issues).toEqual([
        expect.objectContaining({ reason: expect.stringMatching(/"k0" is given again \(first at line 7\)/), line: 40_007 }),
      ]);
    });

    it('an alias inside the node it names (a value holding itself), with its line, not a stack overflow', () => {
      // The yaml package makes such an alias a circular object: every walk of it recursed until the
      // stack overflowed, and start-up stopped with a RangeError and its stack.
      const loop = /YAML: the alias \*a is inside the value anchored &a \(line \d+\), so that value would hold itself/;
      expectIssue(valid + 'x: &a [*a]\n', '', loop, 15);
      expectIssue(valid + 'x: &a { b: [1, { c: *a }] }\n', '', loop, 15);
      expectIssue(valid.replace('lostReasons: [price]', 'lostReasons: &a [price, *a]'), '', loop, 14);
      expectIssue(valid.replace('    probability: 10', '    probability: 10\n    extra: &a\n      - *a'), '', loop, 8);
      // An alias after its anchor's value ends (the same name anchored again in between included) is no loop.
      expect(() => parseProcessDefinition(valid.replace('lostReasons: [price]', 'lostReasons: &a [price]\nteams: &a [direct]\nx: *a'), SOURCE)).toThrow(/unknown key "x"/);
      expect(parseProcessDefinition(valid.replace('lostReasons: [price]', 'lostReasons: &a [price, other]\nwonReasons: *a'), SOURCE).wonReasons).toEqual(['price', 'other']);
    });

    it('a document that is not a mapping', () => {
      expectIssue('- just\n- a list\n', '', /must be a mapping/);
    });

    it('and reports every problem at once, not only the first', () => {
      const error = problemsOf(valid.replace('probability: 10', 'probability: 200').replace('winFrom: [qualification]', 'winFrom: [nowhere]'));
      expect(error.issues.map((issue) => issue.path)).toEqual(['stages[0].probability', 'rules.winFrom[0]']);
    });
  });
});
