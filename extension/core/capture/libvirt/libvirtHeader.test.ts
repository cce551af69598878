import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  LIBVIRT_HEADER_SIZE,
  LibvirtHeaderError,
  parseLibvirtHeader,
  readLibvirtData,
  startsWithLibvirtMagic,
  unpackCommand,
} from './libvirtHeader';
import { encodeLibvirtHeader, libvirtPrefix } from '../../../../test/support/inputs/libvirtImage';

const BIG = 1 << 30;

function rejects(bytes: Uint8Array, size: number, re: RegExp, at?: number): void {
  assert.throws(
    () => parseLibvirtHeader(bytes, size),
    (e: unknown) => e instanceof LibvirtHeaderError && re.test(e.message) && (at === undefined || e.fileOffset === at),
  );
}

describe('libvirt save header (virQEMUSaveHeader)', () => {
  it('reads every field of a complete version-2 header and the XML and cookie after it', () => {
    const prefix = libvirtPrefix({
      xml: '<domain type="kvm"><name>vm1</name></domain>',
      cookie: '<cookie><cpu/></cookie>',
      format: 5,
    });
    const h = parseLibvirtHeader(prefix, prefix.length + 100);
    assert.equal(h.complete, true);
    assert.equal(h.version, 2);
    assert.equal(h.format, 'zstd');
    assert.equal(h.formatNumber, 5);
    assert.equal(h.wasRunning, true);
    assert.equal(h.streamOffset, prefix.length);
    assert.equal(h.streamOffset, LIBVIRT_HEADER_SIZE + h.dataLen);
    const d = readLibvirtData(h, prefix.subarray(LIBVIRT_HEADER_SIZE));
    assert.equal(d.domainXml, '<domain type="kvm"><name>vm1</name></domain>');
    assert.equal(d.cookie, '<cookie><cpu/></cookie>');
  });

  it('tells an unfinished save (LibvirtQemudPart) from a complete one', () => {
    const h = parseLibvirtHeader(encodeLibvirtHeader({ complete: false, dataLen: 10, format: 0 }), BIG);
    assert.equal(h.complete, false);
    assert.ok(startsWithLibvirtMagic(encodeLibvirtHeader({ complete: false, dataLen: 0, format: 0 })));
    assert.ok(!startsWithLibvirtMagic(new TextEncoder().encode('LibvirtQemudXXXX')));
  });

  it('reads a header written on a host of the other byte order', () => {
    const b = encodeLibvirtHeader({ dataLen: 0x1000, format: 6 });
    const v = new DataView(b.buffer);
    for (const at of [16, 20, 24, 28, 32]) v.setUint32(at, v.getUint32(at, true), false);
    const h = parseLibvirtHeader(b, BIG);
    assert.equal(h.littleEndian, false);
    assert.equal(h.dataLen, 0x1000);
    assert.equal(h.format, 'sparse');
  });

  it('refuses a data_len of 2^32-1, and one past the end of the file', () => {
    rejects(encodeLibvirtHeader({ dataLen: 0xffff_ffff, format: 0 }), BIG, /data_len 4294967295 at file offset 20/, 20);
    rejects(encodeLibvirtHeader({ dataLen: 5000, format: 0 }), 1000, /past the end of the 1000-byte file/, 20);
  });

  it('refuses a truncated header, naming how much of it there is', () => {
    const b = encodeLibvirtHeader({ dataLen: 0, format: 0 });
    rejects(b.subarray(0, 40), 40, /cut off: the file has 40 of its 92 bytes/, 40);
    rejects(b.subarray(0, 10), 10, /no LibvirtQemudSave/, 0);
  });

  it('refuses an unknown version, format or a cookie beyond data_len', () => {
    rejects(encodeLibvirtHeader({ version: 0, dataLen: 0, format: 0 }), BIG, /version 0 at file offset 16/, 16);
    rejects(encodeLibvirtHeader({ dataLen: 0, format: 7 }), BIG, /format 7 at file offset 28 is unknown/, 28);
    rejects(
      encodeLibvirtHeader({ dataLen: 10, format: 0, cookieOffset: 11 }),
      BIG,
      /cookieOffset 11 at file offset 32/,
      32,
    );
  });

  it('names the command that unpacks bzip2, xz and lzop images, and none for the formats read here', () => {
    const h = (format: number) => parseLibvirtHeader(encodeLibvirtHeader({ dataLen: 100, format }), BIG);
    assert.equal(unpackCommand(h(3), '/x/vm.save'), "tail -c +193 '/x/vm.save' | xz -dc > migration.qemu");
    assert.match(unpackCommand(h(2), 'a b')!, /\| bzip2 -dc >/);
    assert.match(unpackCommand(h(4), 'a')!, /\| lzop -dc >/);
    for (const f of [0, 1, 5, 6]) assert.equal(unpackCommand(h(f), 'a'), undefined);
  });
});
