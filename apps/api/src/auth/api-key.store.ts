import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { readUtf8, SettingsError, type Settings } from '@stagecraft/config';
import { API_SETTINGS } from '../settings/api-settings.token';
import type { StoredApiKey } from './api-key.credentials';
import { parseApiKeys, readApiKeysText } from './api-keys.file';

// Both, because neither is enough alone: fs.watch misses events across renames, editors' saves
// and some file systems; the stat poll alone would add up to its interval to every change.
const POLL_INTERVAL_MS = 500;
// A file changed this recently may change again within the same mtime tick (coarse on some file
// systems): it is read again on the next poll rather than trusted by its stat alone.
const SETTLE_MS = 2_000;

/**
 * The API keys in force: the keys file (re-read whenever it changes, so keys added or revoked
 * apply to every running instance within about a second) plus those inline in API_KEYS.
 * A file that is half-written, invalid or gone keeps the last good keys and logs a warning:
 * a botched edit must neither lock everyone out nor crash the service.
 */
@Injectable()
export class ApiKeyStore implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('ApiKeys');
  private readonly file: string;
  private readonly inline: readonly StoredApiKey[];
  private fileKeys: readonly StoredApiKey[];
  private byId: ReadonlyMap<string, StoredApiKey>;
  private seen: string;
  private lastText?: string;
  private reported?: string;
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private pendingCheck?: NodeJS.Timeout;

  constructor(@Inject(API_SETTINGS) settings: Settings) {
    this.file = settings.auth.apiKeysFile;
    this.inline = settings.auth.inlineApiKeys ? parseApiKeys(settings.auth.inlineApiKeys, 'API_KEYS') : [];
    // At start-up a bad file stops the service, naming it (parseApiKeys throws SettingsError).
    this.seen = this.signature();
    this.lastText = this.seen === 'missing' ? undefined : readKeysText(this.file);
    this.fileKeys = this.lastText === undefined ? [] : parseApiKeys(this.lastText, { file: this.file });
    this.byId = this.index();
  }

  onModuleInit(): void {
    this.timer = setInterval(() => this.check(), POLL_INTERVAL_MS);
    this.timer.unref();
    try {
      // The folder, not the file: an atomic save replaces the file, and a watch on it would go stale.
      this.watcher = watch(dirname(this.file), { persistent: false }, (_event, name) => {
        if (name === null || name === basename(this.file)) this.scheduleCheck();
      });
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      // No folder yet, or no watch support: the poll alone still sees every change.
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
    clearTimeout(this.pendingCheck);
    this.watcher?.close();
  }

  get keys(): ReadonlyMap<string, StoredApiKey> {
    return this.byId;
  }

  get keysFile(): string {
    return this.file;
  }

  get inlineKeys(): readonly StoredApiKey[] {
    return this.inline;
  }

  /** How many keys this instance accepts from the keys file as it last read it (kept while the file is missing or unreadable). */
  get keysLastReadFromFile(): number {
    return this.fileKeys.length;
  }

  /** Reads the file now if it changed (writers in this process call it after writing). */
  check(): void {
    const before = this.signature();
    if (before === this.seen && !this.recentlyChanged(before)) return;
    if (before === 'missing') {
      this.seen = before;
      this.lastText = undefined;
      this.report(`is missing; keeping the ${this.fileKeys.length} key(s) last read from it (to revoke every key, write {"keys": []})`);
      return;
    }
    let text: string;
    try {
      text = readUtf8(this.file); // a FIFO put in its place must not stop the event loop
    } catch (error) {
      this.report(`cannot be read (${(error as Error).message}); keeping the ${this.fileKeys.length} key(s) last read`);
      return;
    }
    // Changed while being read: take it on the next look, whole.
    if (this.signature() !== before) return;
    this.seen = before;
    if (text === this.lastText) return;
    const read = readApiKeysText(text);
    if ('problem' in read) {
      this.lastText = undefined;
      this.report(`${read.problem}; keeping the ${this.fileKeys.length} key(s) last read`);
      return;
    }
    this.fileKeys = read.keys;
    this.lastText = text;
    this.reported = undefined;
    this.byId = this.index();
    this.logger.log(`API keys reloaded from ${this.file}: ${this.fileKeys.length} key(s)`);
  }

  private scheduleCheck(): void {
    // Editors write in bursts; one look shortly after the last event is enough.
    clearTimeout(this.pendingCheck);
    this.pendingCheck = setTimeout(() => this.check(), 25);
    this.pendingCheck.unref();
  }

  private index(): Map<string, StoredApiKey> {
    return new Map([...this.fileKeys, ...this.inline].map((key) => [key.id, key]));
  }

  private signature(): string {
    try {
      const stat = statSync(this.file, { bigint: true });
      return `${stat.ino}:${stat.size}:${stat.mtimeNs}`;
    } catch {
      return 'missing';
    }
  }

  private recentlyChanged(signature: string): boolean {
    if (signature === 'missing') return false;
    const mtimeMs = Number(BigInt(signature.split(':')[2]!) / 1_000_000n);
    return Date.now() - mtimeMs < SETTLE_MS;
  }

  // Once per distinct problem, not every poll.
  private report(problem: string): void {
    if (this.reported === problem) return;
    this.reported = problem;
    this.logger.warn(`API keys file ${this.file} ${problem}.`);
  }
}

/** The keys file's text at start-up; one it cannot read (a folder, no permission) stops start-up naming it. */
function readKeysText(file: string): string {
  try {
    return readUtf8(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'EACCES' || code === 'EPERM' ? 'permission denied (check its owner and mode)' : (error as Error).message;
    throw new SettingsError('API_KEYS_FILE', `${file} cannot be read: ${reason}`);
  }
}
