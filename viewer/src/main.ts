/**
 * The viewer page: takes a file (picked, dropped or an example), reads it with progress, hands the
 * bytes to the worker and shows what comes back: the scan verdict first, then the show tree, the
 * disassembly and the downloads. No byte leaves the page.
 */
import type { ScanGlobal, ScanReport } from '../../src/index.js';
import type { Download, FromWorker, ToWorker } from './protocol.js';
import { renderShowTree } from './render.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const send = (m: ToWorker, transfer?: Transferable[]): void => worker.postMessage(m, transfer ?? []);

const LABELS: Record<Download, string> = {
  json: 'JSON',
  jsonpickle: 'jsonpickle',
  safetensors: 'safetensors',
};

function setProgress(stage: string, fraction: number): void {
  $('progress').hidden = false;
  ($('bar') as HTMLProgressElement).value = fraction;
  $('stage').textContent = stage;
}

function reset(name: string): void {
  $('result').hidden = false;
  $('filename').textContent = name;
  for (const id of ['verdict', 'summary', 'tree', 'dis', 'error', 'downloads']) $(id).replaceChildren();
  $('verdict').className = '';
  $('error').hidden = true;
  $('downloads').hidden = true;
  $('tree-box').hidden = true;
  document.body.dataset['state'] = 'loading';
}

/** Read a File in chunks so the bar moves for big files (File.arrayBuffer() reports nothing). */
async function readWithProgress(file: File): Promise<ArrayBuffer> {
  const out = new Uint8Array(file.size);
  const reader = file.stream().getReader();
  let at = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    out.set(value, at);
    at += value.length;
    setProgress(`reading ${file.name}`, (at / Math.max(1, file.size)) * (1 / 6));
  }
  return out.buffer;
}

async function openFile(file: File): Promise<void> {
  reset(file.name);
  setProgress(`reading ${file.name}`, 0);
  const bytes = await readWithProgress(file);
  send({ type: 'open', name: file.name, bytes }, [bytes]);
}

function groupGlobals(globals: readonly ScanGlobal[]): Map<string, { g: ScanGlobal; count: number }> {
  const groups = new Map<string, { g: ScanGlobal; count: number }>();
  const rank = { dangerous: 0, unknown: 1, safe: 2 } as const;
  const sorted = [...globals].sort((a, b) => rank[a.severity] - rank[b.severity] || a.offset - b.offset);
  for (const g of sorted) {
    const key = `${g.severity} ${g.resolved ?? `${g.module}.${g.name}`}`;
    const e = groups.get(key);
    if (e) e.count++;
    else groups.set(key, { g, count: 1 });
  }
  return groups;
}

function showVerdict(report: ScanReport | undefined, error: string | undefined): void {
  const box = $('verdict');
  const title = document.createElement('div');
  title.className = 'title';
  const detail = document.createElement('div');
  let cls: 'ok' | 'warn' | 'bad';
  if (!report) {
    cls = 'warn';
    title.textContent = 'Could not scan this file';
    detail.textContent = error ?? '';
  } else {
    const n = { dangerous: 0, unknown: 0, safe: 0 };
    for (const g of report.globals) n[g.severity]++;
    if (report.dangerous) {
      cls = 'bad';
      title.textContent = 'Dangerous: loading this file in Python would run code';
      detail.textContent = `${n.dangerous} dangerous global${n.dangerous === 1 ? '' : 's'} found. Do not pass it to pickle.load, joblib.load or torch.load.`;
    } else if (!report.complete) {
      cls = 'warn';
      title.textContent = 'Incomplete scan';
      detail.textContent = `Not every byte could be read, so globals may be missing: ${report.errors.join('; ')}`;
    } else if (n.unknown > 0) {
      cls = 'warn';
      title.textContent = 'No known-dangerous globals, but some unknown ones';
      detail.textContent = `${n.unknown} global${n.unknown === 1 ? '' : 's'} that picklejar does not know; Python would import and call them.`;
    } else {
      cls = 'ok';
      title.textContent = 'No dangerous globals';
      detail.textContent =
        report.globals.length === 0
          ? 'The file imports nothing: plain data.'
          : `${report.globals.length} global${report.globals.length === 1 ? '' : 's'}, all known safe.`;
    }
    if (report.globals.length > 0) {
      // The table is open when something needs a look, folded when every global is known safe.
      const fold = document.createElement('details');
      fold.open = cls !== 'ok';
      const sum = document.createElement('summary');
      sum.textContent = `the ${report.globals.length === 1 ? 'global' : 'globals'} this file imports`;
      fold.append(sum);
      const table = document.createElement('table');
      const head = table.createTHead().insertRow();
      for (const h of ['severity', 'global', 'use', 'times', 'why']) {
        const th = document.createElement('th');
        th.textContent = h;
        head.append(th);
      }
      const body = table.createTBody();
      for (const { g, count } of groupGlobals(report.globals).values()) {
        const row = body.insertRow();
        const cells = [
          g.severity,
          g.resolved ?? `${g.module}.${g.name}`,
          g.use,
          String(count),
          g.reason ?? '',
        ];
        cells.forEach((text, i) => {
          const td = row.insertCell();
          td.textContent = text;
          if (i === 0 && g.severity !== 'safe')
            td.className = g.severity === 'dangerous' ? 'r-bad' : 'r-note';
        });
      }
      fold.append(table);
      detail.append(fold);
    }
  }
  box.className = cls;
  box.dataset['verdict'] = report ? (report.dangerous ? 'dangerous' : cls) : 'unreadable';
  box.replaceChildren(title, detail);
}

function showDownloads(formats: readonly Download[]): void {
  const nav = $('downloads');
  nav.replaceChildren('Download as:');
  for (const f of formats) {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = LABELS[f];
    b.dataset['format'] = f;
    b.addEventListener('click', () => send({ type: 'download', format: f }));
    nav.append(b);
  }
  nav.hidden = false;
}

function saveFile(name: string, mime: string, data: Uint8Array): void {
  const url = URL.createObjectURL(new Blob([data as BlobPart], { type: mime }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function showError(text: string): void {
  const box = $('error');
  box.hidden = false;
  box.textContent = box.textContent ? `${box.textContent}\n${text}` : text;
}

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  switch (m.type) {
    case 'progress':
      setProgress(m.stage, m.step / m.steps);
      break;
    case 'scan':
      showVerdict(m.report, m.error);
      break;
    case 'tree':
      $('summary').textContent = m.summary;
      $('tree').replaceChildren(renderShowTree(document, m.tree));
      $('tree-box').hidden = false;
      showDownloads(m.downloads);
      break;
    case 'dis':
      $('dis').textContent = m.truncated ? `${m.text}\n… (cut: the listing is longer than shown)` : m.text;
      break;
    case 'error':
      showError(`Could not ${m.stage} this file: ${m.message}`);
      break;
    case 'done':
      setProgress(`done in ${Math.round(m.ms)} ms`, 1);
      document.body.dataset['state'] = 'done';
      break;
    case 'file':
      saveFile(m.name, m.mime, m.data);
      break;
    case 'file-error':
      showError(`Could not make the ${LABELS[m.format]} download: ${m.message}`);
      break;
  }
};

const input = $('file') as HTMLInputElement;
input.addEventListener('change', () => {
  const f = input.files?.[0];
  if (f) void openFile(f);
});

const drop = $('drop');
document.addEventListener('dragover', (e) => {
  e.preventDefault();
  drop.classList.add('over');
});
document.addEventListener('dragleave', () => drop.classList.remove('over'));
document.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = e.dataTransfer?.files[0];
  if (f) void openFile(f);
});

for (const b of document.querySelectorAll<HTMLButtonElement>('button[data-example]')) {
  b.addEventListener('click', () => {
    const path = b.dataset['example'] as string;
    void fetch(path)
      .then((r) => r.blob())
      .then((blob) => openFile(new File([blob], path.split('/').pop() as string)));
  });
}
document.body.dataset['state'] = 'idle';
