/**
 * Hot reload: watches the function and mesh-layer sources, and on a change (debounced) tells the
 * pools to retire their containers, so the next invocation cold-starts the code as saved.
 */
import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';

export interface CodeWatcherOptions {
  root: string;
  /** Folders under `root` whose `.ts` files are function code. */
  folders: readonly string[];
  debounceMs: number;
  onChange(files: string[]): void;
}

export const CODE_WATCHER_DEFAULTS = { folders: ['functions', 'shared'], debounceMs: 150 } as const;

/** Starts watching; the returned function stops. */
export function watchCode(opts: Partial<CodeWatcherOptions> & Pick<CodeWatcherOptions, 'root' | 'onChange'>): () => void {
  const options: CodeWatcherOptions = { ...CODE_WATCHER_DEFAULTS, ...opts };
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = options.folders.map((folder) =>
    watch(join(options.root, folder), { recursive: true }, (_event, file) => {
      if (!file || !/\.(ts|js|json)$/.test(file) || /\.test\.ts$/.test(file)) return;
      changed.add(join(folder, file.toString()));
      clearTimeout(timer);
      timer = setTimeout(() => {
        const files = [...changed];
        changed.clear();
        options.onChange(files);
      }, options.debounceMs);
    }),
  );
  return () => {
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
}
