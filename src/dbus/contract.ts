import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../paths.js';
import { INTERFACE, METHOD_REPLIES, METHODS, SIGNALS, STANDARD_INTERFACES, type MethodName } from './api.js';

/** dbus/org.facegate.Daemon.xml in the checkout or the install prefix (scripts/install.sh copies dbus/). */
export const CONTRACT_FILE = path.join(PACKAGE_ROOT, 'dbus', `${INTERFACE}.xml`);

/** One interface of an introspection document: per member, the concatenated argument signatures. */
export interface InterfaceSignatures {
  methods: Record<string, { in: string; out: string }>;
  signals: Record<string, string>;
}

const MEMBER = /<(method|signal)\s+name="([A-Za-z_][A-Za-z0-9_]*)"\s*(\/>|>([\s\S]*?)<\/\1>)/g;
const ARG = /<arg\s+([^>]*?)\/>/g;
const ATTR = /([a-z_]+)="([^"]*)"/g;

/**
 * The signatures of interface `name` in an introspection document. Not a general XML parser: it reads the
 * subset introspection data uses (elements named node/interface/method/signal/arg, double-quoted attributes),
 * and comments are dropped first so a commented-out member does not count.
 */
export function parseInterface(xml: string, name: string): InterfaceSignatures {
  const text = xml.replace(/<!--[\s\S]*?-->/g, '');
  const open = text.indexOf(`<interface name="${name}">`);
  if (open < 0) throw new Error(`no interface ${name}`);
  const close = text.indexOf('</interface>', open);
  if (close < 0) throw new Error(`interface ${name} is not closed`);
  const body = text.slice(open, close);
  const out: InterfaceSignatures = { methods: {}, signals: {} };
  for (const m of body.matchAll(MEMBER)) {
    const [, kind, member, , inner = ''] = m;
    let sigIn = '';
    let sigOut = '';
    for (const a of inner.matchAll(ARG)) {
      const attrs = Object.fromEntries([...a[1]!.matchAll(ATTR)].map((x) => [x[1]!, x[2]!]));
      if (!attrs.type) throw new Error(`${member}: an argument without a type`);
      // Introspection's defaults: method arguments are "in", signal arguments are "out".
      const dir = attrs.direction ?? (kind === 'method' ? 'in' : 'out');
      if (dir === 'in') sigIn += attrs.type;
      else if (dir === 'out') sigOut += attrs.type;
      else throw new Error(`${member}: argument direction "${dir}"`);
    }
    if (kind === 'method') {
      if (out.methods[member!]) throw new Error(`method ${member} declared twice`);
      out.methods[member!] = { in: sigIn, out: sigOut };
    } else {
      if (sigIn) throw new Error(`signal ${member} has an "in" argument`);
      if (out.signals[member!] !== undefined) throw new Error(`signal ${member} declared twice`);
      out.signals[member!] = sigOut;
    }
  }
  return out;
}

/** What the handlers implement (src/dbus/api.ts), in the same shape as a parsed contract. */
export function handlerSignatures(): InterfaceSignatures {
  const methods: InterfaceSignatures['methods'] = {};
  for (const m of Object.keys(METHODS) as MethodName[]) methods[m] = { in: METHODS[m], out: METHOD_REPLIES[m] };
  return { methods, signals: { ...SIGNALS } };
}

/** Differences between a contract and the handlers, one line each; empty when they agree. */
export function contractMismatches(contract: InterfaceSignatures, handlers: InterfaceSignatures = handlerSignatures()): string[] {
  const diffs: string[] = [];
  const names = (a: object, b: object): string[] => [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const m of names(contract.methods, handlers.methods)) {
    const c = contract.methods[m];
    const h = handlers.methods[m];
    if (!c) diffs.push(`method ${m} is handled but not in the contract`);
    else if (!h) diffs.push(`method ${m} is in the contract but not handled`);
    else if (c.in !== h.in || c.out !== h.out) diffs.push(`method ${m}: contract (${c.in})→(${c.out}), handler (${h.in})→(${h.out})`);
  }
  for (const s of names(contract.signals, handlers.signals)) {
    const c = contract.signals[s];
    const h = handlers.signals[s];
    if (c === undefined) diffs.push(`signal ${s} is sent but not in the contract`);
    else if (h === undefined) diffs.push(`signal ${s} is in the contract but never sent`);
    else if (c !== h) diffs.push(`signal ${s}: contract (${c}), sender (${h})`);
  }
  return diffs;
}

/**
 * The introspection XML the object serves: the contract file with the standard interfaces added. Fails when the
 * file is missing or disagrees with the handlers, so the daemon never advertises an API it does not implement.
 */
export function loadIntrospection(file: string = CONTRACT_FILE): string {
  let xml: string;
  try {
    xml = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the D-Bus contract ${file}: ${(err as Error).message}`);
  }
  const diffs = contractMismatches(parseInterface(xml, INTERFACE));
  if (diffs.length > 0) throw new Error(`the D-Bus contract ${file} disagrees with the service: ${diffs.join('; ')}`);
  const end = xml.lastIndexOf('</node>');
  if (end < 0) throw new Error(`the D-Bus contract ${file} has no </node>`);
  return `${xml.slice(0, end)}${STANDARD_INTERFACES}${xml.slice(end)}`;
}
