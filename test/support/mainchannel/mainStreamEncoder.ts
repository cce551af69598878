import {
  MAPPED_RAM_HEADER_VERSION,
  QEMU_VM_COMMAND,
  QEMU_VM_CONFIGURATION,
  QEMU_VM_EOF,
  QEMU_VM_FILE_MAGIC,
  QEMU_VM_SECTION_END,
  QEMU_VM_SECTION_FOOTER,
  QEMU_VM_SECTION_FULL,
  QEMU_VM_SECTION_PART,
  QEMU_VM_SECTION_START,
  QEMU_VM_SUBSECTION,
  QEMU_VM_VMDESCRIPTION,
  RAM_SAVE_FLAG_COMPRESS_PAGE,
  RAM_SAVE_FLAG_CONTINUE,
  RAM_SAVE_FLAG_EOS,
  RAM_SAVE_FLAG_MEM_SIZE,
  RAM_SAVE_FLAG_MULTIFD_FLUSH,
  RAM_SAVE_FLAG_PAGE,
  RAM_SAVE_FLAG_XBZRLE,
  RAM_SAVE_FLAG_ZERO,
} from '../../../extension/core/mainchannel/constants';

export interface EncodedBlock {
  name: string;
  usedLength: number;
  /** Written after used_length (postcopy-ram with a non-default block page size). */
  pageSize?: number;
  /** Written when the stream is built with x-ignore-shared. */
  mrAddr?: number;
  /** Written as a MappedRamHeader; the caller places the page region (see `padTo`). */
  mappedRam?: { pageSize: number; bitmapOffset: number; pagesOffset: number };
}

/**
 * Builds main-channel byte streams the way QEMU's savevm.c and ram.c write them, for tests. Every method
 * appends and returns `this`; `raw` and `word` allow writing malformed streams on purpose. A RAM record's
 * block is named when `block` is given and CONTINUE is set when it is not.
 */
export class MainStreamEncoder {
  private chunks: Uint8Array[] = [];
  private size = 0;

  get length(): number {
    return this.size;
  }

  raw(bytes: ArrayLike<number>): this {
    const b = Uint8Array.from(bytes);
    this.chunks.push(b);
    this.size += b.length;
    return this;
  }

  u8(v: number): this {
    return this.raw([v & 0xff]);
  }

  be16(v: number): this {
    return this.raw([(v >>> 8) & 0xff, v & 0xff]);
  }

  be32(v: number): this {
    return this.raw([(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]);
  }

  be64(v: number | bigint): this {
    const x = BigInt(v);
    return this.be32(Number((x >> 32n) & 0xffffffffn)).be32(Number(x & 0xffffffffn));
  }

  /** u8 length + bytes (names are latin1: one byte a character). */
  name8(s: string): this {
    return this.u8(s.length).raw(Array.from(s, (c) => c.charCodeAt(0) & 0xff));
  }

  /** Zero bytes up to an absolute stream offset (a mapped-ram page region, sparse in a real file). */
  padTo(offset: number, fill = 0): this {
    if (offset > this.size) this.raw(new Uint8Array(offset - this.size).fill(fill));
    return this;
  }

  header(version = 3): this {
    return this.be32(QEMU_VM_FILE_MAGIC).be32(version);
  }

  configuration(c: { machineType: string; targetPageBits?: number; capabilities?: string[]; uuid?: Uint8Array }): this {
    this.u8(QEMU_VM_CONFIGURATION)
      .be32(c.machineType.length)
      .raw(Array.from(c.machineType, (ch) => ch.charCodeAt(0)));
    if (c.targetPageBits !== undefined) this.subsection('configuration/target-page-bits').be32(c.targetPageBits);
    if (c.capabilities?.length) {
      this.subsection('configuration/capabilities').be32(c.capabilities.length);
      for (const cap of c.capabilities) this.name8(cap);
    }
    if (c.uuid) this.subsection('configuration/uuid').raw(c.uuid);
    return this;
  }

  subsection(name: string, version = 1): this {
    return this.u8(QEMU_VM_SUBSECTION).name8(name).be32(version);
  }

  sectionStart(id: number, idstr: string, instanceId = 0, versionId = 4): this {
    return this.u8(QEMU_VM_SECTION_START).be32(id).name8(idstr).be32(instanceId).be32(versionId);
  }

  sectionFull(id: number, idstr: string, instanceId = 0, versionId = 1): this {
    return this.u8(QEMU_VM_SECTION_FULL).be32(id).name8(idstr).be32(instanceId).be32(versionId);
  }

  sectionPart(id: number): this {
    return this.u8(QEMU_VM_SECTION_PART).be32(id);
  }

  sectionEnd(id: number): this {
    return this.u8(QEMU_VM_SECTION_END).be32(id);
  }

  footer(id: number): this {
    return this.u8(QEMU_VM_SECTION_FOOTER).be32(id);
  }

  command(cmd: number, data: ArrayLike<number> = []): this {
    return this.u8(QEMU_VM_COMMAND).be16(cmd).be16(data.length).raw(data);
  }

  eof(): this {
    return this.u8(QEMU_VM_EOF);
  }

  vmDescription(json: unknown): this {
    const text = new TextEncoder().encode(typeof json === 'string' ? json : JSON.stringify(json));
    return this.u8(QEMU_VM_VMDESCRIPTION).be32(text.length).raw(text);
  }

  /** A RAM record word: offset | flags. */
  word(offset: number | bigint, flags: number): this {
    return this.be64(BigInt(offset) | BigInt(flags));
  }

  memSize(blocks: EncodedBlock[], total = blocks.reduce((a, b) => a + b.usedLength, 0)): this {
    this.word(total, RAM_SAVE_FLAG_MEM_SIZE);
    for (const b of blocks) {
      this.name8(b.name).be64(b.usedLength);
      if (b.pageSize !== undefined) this.be64(b.pageSize);
      if (b.mrAddr !== undefined) this.be64(b.mrAddr);
      if (b.mappedRam)
        this.be32(MAPPED_RAM_HEADER_VERSION)
          .be64(b.mappedRam.pageSize)
          .be64(b.mappedRam.bitmapOffset)
          .be64(b.mappedRam.pagesOffset);
    }
    return this;
  }

  private pageWord(flag: number, offset: number, block?: string): this {
    this.word(offset, flag | (block === undefined ? RAM_SAVE_FLAG_CONTINUE : 0));
    if (block !== undefined) this.name8(block);
    return this;
  }

  zero(offset: number, block?: string, fill = 0): this {
    return this.pageWord(RAM_SAVE_FLAG_ZERO, offset, block).u8(fill);
  }

  page(offset: number, block: string | undefined, data: Uint8Array): this {
    return this.pageWord(RAM_SAVE_FLAG_PAGE, offset, block).raw(data);
  }

  xbzrle(offset: number, block: string | undefined, encoded: Uint8Array, encoding = 1): this {
    return this.pageWord(RAM_SAVE_FLAG_XBZRLE, offset, block).u8(encoding).be16(encoded.length).raw(encoded);
  }

  compressPage(offset: number, block: string | undefined, compressed: Uint8Array): this {
    return this.pageWord(RAM_SAVE_FLAG_COMPRESS_PAGE, offset, block).be32(compressed.length).raw(compressed);
  }

  eos(): this {
    return this.word(0, RAM_SAVE_FLAG_EOS);
  }

  flush(): this {
    return this.word(0, RAM_SAVE_FLAG_MULTIFD_FLUSH);
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size);
    let p = 0;
    for (const c of this.chunks) {
      out.set(c, p);
      p += c.length;
    }
    return out;
  }
}
