import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { INTERFACE } from '../src/dbus/api.js';
import { CONTRACT_FILE, contractMismatches, handlerSignatures, loadIntrospection, parseInterface } from '../src/dbus/contract.js';
import { PACKAGE_ROOT } from '../src/paths.js';

const shipped = fs.readFileSync(CONTRACT_FILE, 'utf8');

test('dbus/org.facegate.Daemon.xml states exactly the signatures the handlers implement', () => {
  const contract = parseInterface(shipped, INTERFACE);
  assert.deepEqual(contractMismatches(contract), []);
  // Not vacuous: the parse found every member with its arguments.
  assert.deepEqual(contract, handlerSignatures());
  assert.deepEqual(contract.methods.ListEnrolled, { in: 's', out: 'a(sss)' });
  assert.equal(contract.signals.VerifyStatus, 'sb');
});

test('a contract that drifts from the handlers is named, member by member', () => {
  const edit = (from: string, to: string): string[] => {
    assert.ok(shipped.includes(from), from);
    return contractMismatches(parseInterface(shipped.replace(from, to), INTERFACE));
  };
  assert.deepEqual(edit('name="faces" type="a(sss)"', 'name="faces" type="a(ss)"'), ['method ListEnrolled: contract (s)→(a(ss)), handler (s)→(a(sss))']);
  assert.deepEqual(edit('<method name="Cancel"/>', '<method name="Cancel"/><method name="Enroll"><arg type="s"/></method>'), [
    'method Enroll is in the contract but not handled',
  ]);
  assert.deepEqual(edit('<method name="Cancel"/>', '<!-- <method name="Cancel"/> -->'), ['method Cancel is handled but not in the contract']);
  assert.deepEqual(edit('<arg name="done" type="b"/>', ''), ['signal VerifyStatus: contract (s), sender (sb)']);
  assert.throws(() => parseInterface(shipped, 'org.example.Other'), /no interface org\.example\.Other/);
});

test('the service serves the file, with the standard interfaces, and refuses a missing or wrong one', () => {
  const xml = loadIntrospection();
  const iface = shipped.slice(shipped.indexOf(`<interface name="${INTERFACE}">`), shipped.indexOf('</interface>') + '</interface>'.length);
  assert.ok(xml.includes(iface), 'the contract interface is served verbatim');
  for (const std of ['Introspectable', 'Properties', 'Peer']) assert.ok(xml.includes(`<interface name="org.freedesktop.DBus.${std}">`), std);
  assert.ok(xml.trimEnd().endsWith('</node>'));

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facegate-contract-'));
  try {
    assert.throws(() => loadIntrospection(path.join(dir, 'absent.xml')), /cannot read the D-Bus contract/);
    const wrong = path.join(dir, 'wrong.xml');
    fs.writeFileSync(wrong, shipped.replace('name="user" type="s" direction="in"', 'name="user" type="u" direction="in"'));
    assert.throws(() => loadIntrospection(wrong), /disagrees with the service: method Verify/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('docs/dbus.md gives each method with the signatures of the contract', () => {
  const doc = fs.readFileSync(path.join(PACKAGE_ROOT, 'docs', 'dbus.md'), 'utf8');
  const { methods } = parseInterface(shipped, INTERFACE);
  for (const [name, sig] of Object.entries(methods)) {
    const heading = new RegExp(`^### \`${name}\\(([^)]*)\\) → ([^\`]*)\``, 'm').exec(doc);
    assert.ok(heading, `docs/dbus.md has no heading for ${name}`);
    const docIn = heading[1]!
      .split(',')
      .map((a) => a.trim().split(' ')[0])
      .filter(Boolean)
      .join('');
    assert.equal(docIn, sig.in, `${name} input`);
    assert.equal(heading[2] === '()' ? '' : heading[2], sig.out, `${name} output`);
  }
});

test('the installer ships the contract with the other D-Bus files', () => {
  const install = fs.readFileSync(path.join(PACKAGE_ROOT, 'scripts', 'install.sh'), 'utf8');
  const layout = fs.readFileSync(path.join(PACKAGE_ROOT, 'scripts', 'lib', 'layout.sh'), 'utf8');
  const deb = fs.readFileSync(path.join(PACKAGE_ROOT, 'scripts', 'build-deb.sh'), 'utf8');
  // facegated reads the contract from the prefix at start, so both install paths must leave it there.
  assert.match(layout, /^FG_APP_PARTS=\([^\n]*\bdbus\b/m, 'the shared layout copies dbus/ into the prefix');
  assert.doesNotMatch(deb, /rm -rf [^\n]*PREFIX\/dbus"/, 'the package keeps dbus/ (the contract) in the prefix');
  assert.match(install, /dbus\/org\.facegate\.Daemon\.xml" \/usr\/share\/dbus-1\/interfaces\/org\.facegate\.Daemon\.xml/);
  assert.match(deb, /dbus\/org\.facegate\.Daemon\.xml "\$ROOT\/usr\/share\/dbus-1\/interfaces\/org\.facegate\.Daemon\.xml"/);
});
