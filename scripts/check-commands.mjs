// Fails when a command declared in package.json is never registered in src/extension, or a
// command registered there is not declared (so it would have no title, category or menu rules).
// Also checks that menus, keybindings and welcome views only name declared commands.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const contributes = pkg.contributes ?? {};
const declared = new Set((contributes.commands ?? []).map((c) => c.command));

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

// Command ids live in settings.ts (`Commands = { store: 'nautilusRegistry.store', ... }`) and are
// registered through `command(Commands.x, ...)` units in src/extension/commands/.
const sources = files(path.join(root, 'src', 'extension'));
const text = Object.fromEntries(sources.map((f) => [f, readFileSync(f, 'utf8')]));
const constants = new Map();
for (const src of Object.values(text)) {
  const block = /export const Commands = \{([\s\S]*?)\} as const;/.exec(src);
  if (block) {
    for (const m of block[1].matchAll(/(\w+):\s*'([^']+)'/g)) {
      constants.set(m[1], m[2]);
    }
  }
}
const registered = new Set();
for (const src of Object.values(text)) {
  for (const m of src.matchAll(/(?:register|registerCommand|command)\(\s*Commands\.(\w+)/g)) {
    if (!constants.has(m[1])) {
      console.error(`check-commands: Commands.${m[1]} is registered but not defined in the Commands constants.`);
      process.exitCode = 1;
    }
    registered.add(constants.get(m[1]));
  }
  for (const m of src.matchAll(/registerCommand\(\s*'([^']+)'/g)) {
    registered.add(m[1]);
  }
}

const problems = [];
for (const id of declared) {
  if (!registered.has(id)) {problems.push(`declared in package.json but never registered: ${id}`);}
}
for (const id of registered) {
  if (id && !declared.has(id)) {problems.push(`registered in code but not declared in package.json: ${id}`);}
}
for (const [menu, items] of Object.entries(contributes.menus ?? {})) {
  for (const item of items) {
    if (item.command && !declared.has(item.command)) {problems.push(`menu ${menu} names an undeclared command: ${item.command}`);}
  }
}
for (const kb of contributes.keybindings ?? []) {
  if (!declared.has(kb.command)) {problems.push(`keybinding ${kb.key} names an undeclared command: ${kb.command}`);}
}
const nls = JSON.parse(readFileSync(path.join(root, 'package.nls.json'), 'utf8'));
for (const w of contributes.viewsWelcome ?? []) {
  const contents = w.contents.startsWith('%') ? (nls[w.contents.slice(1, -1)] ?? '') : w.contents;
  for (const m of contents.matchAll(/\(command:([\w.]+)/g)) {
    if (!declared.has(m[1])) {problems.push(`welcome view links an undeclared command: ${m[1]}`);}
  }
}
for (const c of contributes.commands ?? []) {
  if (!c.category) {problems.push(`command without a category: ${c.command}`);}
}
for (const m of JSON.stringify(pkg).matchAll(/"%([^%"]+)%"/g)) {
  if (!(m[1] in nls)) {problems.push(`package.json uses %${m[1]}% but package.nls.json has no such string`);}
}

if (problems.length > 0) {
  for (const p of problems) {console.error(`check-commands: ${p}`);}
  process.exit(1);
}
console.log(`check-commands: ${declared.size} commands declared and registered; menus, keybindings and welcome views consistent.`);
