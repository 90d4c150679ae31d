import { assertConfigurationFile, assertProcessSet, loadProcessFile, unreadableFileReason, type LoadedProcessFile } from '@stagecraft/config';
import { compileProcess, ProcessDefinitionError } from '@stagecraft/sales-process';
import { EXIT } from '../cli.errors';

/**
 * `stagecraft processes validate <file...>`: the checks start-up makes, before a file is deployed.
 * Valid: prints id, version and stages (exit 0). Invalid: every problem with file:line:col (exit 1).
 * A file that cannot be read: exit 2.
 */
export function validateProcessFiles(files: readonly string[]): number {
  let exitCode: number = EXIT.ok;
  const valid: LoadedProcessFile[] = [];
  for (const file of files) {
    try {
      // A file that cannot be read at all (missing, a folder, a FIFO) is a usage error, as for every input of the CLI.
      assertConfigurationFile(file);
    } catch (error) {
      console.error(`${file}: ${unreadableFileReason(file, error)}`);
      exitCode = EXIT.usage;
      continue;
    }
    try {
      const loaded = loadProcessFile(file);
      const { definition } = loaded;
      valid.push(loaded);
      const compiled = compileProcess(definition);
      const stages = definition.stages.map((stage) => `${stage.id}${stage.exitCriteria.length > 0 ? ` (${stage.exitCriteria.length} exit criteria)` : ''}`);
      console.log(`${file}: valid`);
      console.log(`  id:       ${definition.id}`);
      console.log(`  name:     ${definition.name}`);
      console.log(`  version:  ${compiled.version}`);
      console.log(`  stages:   ${stages.join(' → ')}`);
      console.log(`  win from: ${definition.rules.winFrom.join(', ')}; skipping ${definition.rules.allowSkipping ? 'allowed' : 'not allowed'}; backward ${definition.rules.allowBackward ? 'allowed' : 'not allowed'}`);
    } catch (error) {
      if (!(error instanceof ProcessDefinitionError)) throw error;
      console.error(error.message);
      if (exitCode === EXIT.ok) exitCode = EXIT.failed;
    }
  }
  // Valid one by one, the files must also be valid together, as start-up loads them.
  try {
    assertProcessSet(valid);
  } catch (error) {
    if (!(error instanceof ProcessDefinitionError)) throw error;
    console.error(error.message);
    if (exitCode === EXIT.ok) exitCode = EXIT.failed;
  }
  return exitCode;
}
