/**
 * A boot sector that keeps dirtying guest memory, for live migrations: machine code written out as bytes
 * (no assembler is available at test time). The BIOS loads it at 0x7c00 in real mode. It switches DS/ES to
 * "unreal mode" (flat 4 GiB limits, base 0) so 32-bit addresses reach all of RAM while BIOS interrupts keep
 * working; then it loops without pause: pass number `tick` rewrites every 16th page of a range, starting at
 * page tick % 16: page i gets all zeros when (i / 16 + tick / 16) % 4 == 0, otherwise the dword
 * ((i << 16) | tick) repeated with its first 512 bytes pseudo-random. So pages keep changing between iterations, and some go from non-zero back to
 * all zeros. `pages` must be a multiple of 16.
 * After each pass it writes "MFDG" and the tick count at `markerAddress`, so the host can see the guest runs.
 */

export interface DirtyGuest {
  /** First byte of the dirtied range (page aligned). */
  base: number;
  pages: number;
  /** Where the guest writes "MFDG" and its tick counter, outside the range. */
  markerAddress: number;
}

export const GUEST_MARKER = 0x4744464d; // "MFDG" as a little-endian dword

type Fixup = { at: number; label: string; kind: 'rel8' | 'rel16' | 'abs16' | 'abs32' };

/** Just enough of an assembler for the code below: bytes, labels, and relative/absolute label references. */
class Asm {
  private readonly out: number[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: Fixup[] = [];
  constructor(private readonly origin: number) {}

  b(...bytes: number[]): this {
    this.out.push(...bytes);
    return this;
  }
  u16(n: number): this {
    return this.b(n & 0xff, (n >>> 8) & 0xff);
  }
  u32(n: number): this {
    return this.b(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  label(name: string): this {
    this.labels.set(name, this.origin + this.out.length);
    return this;
  }
  ref(label: string, kind: Fixup['kind']): this {
    this.fixups.push({ at: this.out.length, label, kind });
    return this.b(...new Array(kind === 'rel8' ? 1 : kind === 'abs32' ? 4 : 2).fill(0));
  }
  get size(): number {
    return this.out.length;
  }
  build(): number[] {
    for (const f of this.fixups) {
      const target = this.labels.get(f.label);
      if (target === undefined) throw new Error(`boot sector: undefined label ${f.label}`);
      const next = this.origin + f.at + (f.kind === 'rel8' ? 1 : 2);
      let v = f.kind === 'rel8' || f.kind === 'rel16' ? target - next : target;
      if (f.kind === 'rel8') {
        if (v < -128 || v > 127) throw new Error(`boot sector: jump to ${f.label} out of rel8 range`);
        this.out[f.at] = v & 0xff;
        continue;
      }
      const n = f.kind === 'abs32' ? 4 : 2;
      for (let i = 0; i < n; i++, v >>>= 8) this.out[f.at + i] = v & 0xff;
    }
    return this.out;
  }
}

export function dirtyGuestBootSector(g: DirtyGuest): Uint8Array {
  if (g.base % 4096 || g.pages <= 0 || g.pages % 16)
    throw new Error('boot sector: base must be page aligned, pages a positive multiple of 16');
  const a = new Asm(0x7c00);
  a.b(0xfa) // cli
    .b(0x31, 0xc0) // xor ax, ax
    .b(0x8e, 0xd8) // mov ds, ax
    .b(0x8e, 0xc0) // mov es, ax
    .b(0x8e, 0xd0) // mov ss, ax
    .b(0xbc)
    .u16(0x7c00) // mov sp, 0x7c00
    .b(0xfc) // cld
    // Fast A20 gate (port 0x92), else every other MiB would alias.
    .b(0xe4, 0x92) // in al, 0x92
    .b(0x0c, 0x02) // or al, 2
    .b(0x24, 0xfe) // and al, 0xfe (never the reset bit)
    .b(0xe6, 0x92) // out 0x92, al
    .b(0x66, 0x31, 0xd2) // xor edx, edx
    .b(0x66, 0x89, 0x16)
    .ref('counter', 'abs16') // mov [counter], edx
    .label('loop')
    // Never idle: with loopback speeds QEMU converges as soon as one dirty sync finds nothing new, so the
    // guest must dirty pages at every moment. Interrupts are let in once per pass for the BIOS timer.
    .b(0xfb) // sti
    .b(0x90) // nop (sti takes effect after one instruction)
    .b(0xfa) // cli
    // Unreal mode again on every tick: a BIOS handler that went through protected mode may have reset the limits.
    .b(0xe8)
    .ref('unreal', 'rel16') // call unreal
    .b(0x66, 0x8b, 0x16)
    .ref('counter', 'abs16') // mov edx, [counter]
    .b(0x66, 0x42) // inc edx
    .b(0x66, 0x89, 0x16)
    .ref('counter', 'abs16') // mov [counter], edx
    // This tick's pages: i = tick % 16, i + 16, i + 32, …
    .b(0x66, 0x89, 0xd3) // mov ebx, edx
    .b(0x66, 0x83, 0xe3, 0x0f) // and ebx, 15
    .label('page')
    .b(0x66, 0x89, 0xdf) // mov edi, ebx
    .b(0x66, 0xc1, 0xe7, 0x0c) // shl edi, 12
    .b(0x66, 0x81, 0xc7)
    .u32(g.base) // add edi, base
    .b(0x66, 0x89, 0xd8) // mov eax, ebx
    .b(0x66, 0xc1, 0xe8, 0x04) // shr eax, 4
    .b(0x66, 0x89, 0xd1) // mov ecx, edx
    .b(0x66, 0xc1, 0xe9, 0x04) // shr ecx, 4
    .b(0x66, 0x01, 0xc8) // add eax, ecx: (i / 16 + tick / 16) moves on by one per visit of page i
    .b(0xa8, 0x03) // test al, 3
    .b(0x66, 0xb8)
    .u32(0) // mov eax, 0 (flags kept)
    .b(0x74)
    .ref('zero', 'rel8') // jz zero: every 4th visit the page becomes all zeros
    .b(0x66, 0x89, 0xd8) // mov eax, ebx
    .b(0x66, 0xc1, 0xe0, 0x10) // shl eax, 16
    .b(0x66, 0x09, 0xd0) // or eax, edx
    .b(0x66, 0xb9)
    .u32(1024) // mov ecx, 1024
    .b(0x67, 0x66, 0xf3, 0xab) // rep stosd with 32-bit addressing: es:[edi]
    // The page's first 512 bytes become pseudo-random: compressed pages then still cost real bytes, so
    // every iteration takes time and the guest runs between QEMU's dirty syncs.
    .b(0x66, 0x81, 0xef)
    .u32(4096) // sub edi, 4096
    .b(0xb9)
    .u16(128) // mov cx, 128
    .label('random')
    .b(0x66, 0x69, 0xf6)
    .u32(1103515245) // imul esi, esi, 1103515245
    .b(0x66, 0x81, 0xc6)
    .u32(12345) // add esi, 12345
    .b(0x66, 0x89, 0xf0) // mov eax, esi
    .b(0x67, 0x66, 0xab) // stosd
    .b(0x49) // dec cx
    .b(0x75)
    .ref('random', 'rel8') // jnz random
    .b(0xeb)
    .ref('next', 'rel8') // jmp next
    .label('zero')
    .b(0x66, 0xb9)
    .u32(1024) // mov ecx, 1024
    .b(0x67, 0x66, 0xf3, 0xab) // rep stosd (eax = 0)
    .label('next')
    .b(0x66, 0x83, 0xc3, 0x10) // add ebx, 16
    .b(0x66, 0x81, 0xfb)
    .u32(g.pages) // cmp ebx, pages
    .b(0x72)
    .ref('page', 'rel8') // jb page
    .b(0x66, 0xbf)
    .u32(g.markerAddress) // mov edi, marker
    .b(0x67, 0x66, 0xc7, 0x07)
    .u32(GUEST_MARKER) // mov dword [edi], "MFDG"
    .b(0x67, 0x66, 0x89, 0x57, 0x04) // mov [edi+4], edx
    .b(0xe9)
    .ref('loop', 'rel16') // jmp loop
    .label('unreal')
    .b(0x0f, 0x01, 0x16)
    .ref('gdtr', 'abs16') // lgdt [gdtr]
    .b(0x0f, 0x20, 0xc0) // mov eax, cr0
    .b(0x0c, 0x01) // or al, 1: protected mode
    .b(0x0f, 0x22, 0xc0) // mov cr0, eax
    .b(0xeb, 0x00) // jmp $+2
    .b(0xbb)
    .u16(0x08) // mov bx, 8: the flat data descriptor
    .b(0x8e, 0xdb) // mov ds, bx
    .b(0x8e, 0xc3) // mov es, bx
    .b(0x24, 0xfe) // and al, 0xfe: back to real mode; the 4 GiB limits stay cached
    .b(0x0f, 0x22, 0xc0) // mov cr0, eax
    .b(0xeb, 0x00) // jmp $+2
    .b(0x31, 0xc0) // xor ax, ax
    .b(0x8e, 0xd8) // mov ds, ax (base 0 again)
    .b(0x8e, 0xc0) // mov es, ax
    .b(0xc3) // ret
    .label('gdt')
    .u32(0)
    .u32(0) // null descriptor
    .b(0xff, 0xff, 0x00, 0x00, 0x00, 0x92, 0xcf, 0x00) // flat data: base 0, limit 4 GiB, writable
    .label('gdtr')
    .u16(15)
    .ref('gdt', 'abs32')
    .label('counter')
    .u32(0);
  const code = a.build();
  if (code.length > 510) throw new Error(`boot sector: ${code.length} bytes of code do not fit in 510`);
  const sector = new Uint8Array(512);
  sector.set(code, 0);
  sector[510] = 0x55;
  sector[511] = 0xaa;
  return sector;
}

/** A 1.44 MB floppy image whose first sector is `sector`: the BIOS detects the drive geometry from the size. */
export function floppyImage(sector: Uint8Array): Uint8Array {
  const img = new Uint8Array(1_474_560);
  img.set(sector, 0);
  return img;
}
