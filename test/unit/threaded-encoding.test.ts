import fs from 'node:fs';
import zlib from 'node:zlib';
import iconv from 'iconv-lite';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Piscina } from 'piscina';
import { valueSymbol } from 'piscina';
import { writeStagingFile } from '../../bigquery/load-file';
import { RowEncoder } from '../../bigquery/row-encoder';
import { bigQueryColumn } from '../../bigquery/types';
import type { SourceColumn } from '../../sources/logical-types';
import { CopyTextRows } from '../../sources/postgres/copy-text';
import { BLOCK_BYTES, RowTextBlocks } from '../../sources/row-text';
import { rowTextDecoder } from '../../sources/row-text-decoders';
import encodeBlock, { EncodedBlock, EncodeTask } from '../../activities/table-sync/encode-thread';
import { writeStagingFileInThreads } from '../../activities/table-sync/threaded-staging';
import { defaultEncodeThreads } from '../../activities/table-sync/encode-pool';

const COLUMNS: SourceColumn[] = [
  { name: 'id', columnType: 'bigint', type: { kind: 'integer' }, nullable: false },
  { name: 'note', columnType: 'text', type: { kind: 'string' }, nullable: true },
  { name: 'at', columnType: 'timestamptz', type: { kind: 'timestamp' }, nullable: true },
  { name: 'born', columnType: 'date', type: { kind: 'date' }, nullable: true },
];
const MAPPINGS = COLUMNS.map(bigQueryColumn);
const FORMAT = { kind: 'postgres-copy-text' as const, types: COLUMNS.map((c) => c.type) };

/** COPY text of `n` rows: escapes, NULLs, multi-byte text, a date BigQuery cannot hold, rows of very different lengths. */
function copyText(n: number): Buffer {
  const lines: string[] = [];
  for (let i = 1; i <= n; i++) {
    const note = i % 7 === 0 ? '\\N' : i % 5 === 0 ? 'tab\\there\\nnewline \\\\ é 😀' : 'x'.repeat(i % 300);
    const born = i % 11 === 0 ? '0000-00-00' : '2024-02-29';
    lines.push(`${i}\t${note}\t2026-12-05 01:02:03.${String(i % 1000000).padStart(6, '0')}+00\t${born}\n`);
  }
  return Buffer.from(lines.join(''), 'utf8');
}

/** The blocks a RowTextBlocks makes of `data` handed over in chunks of `chunk` bytes. */
async function blocksOf(data: Buffer, chunk: number): Promise<Buffer[]> {
  const out = new RowTextBlocks(FORMAT, () => undefined);
  const blocks: Buffer[] = [];
  out.on('data', (b: Buffer) => blocks.push(b));
  const ended = new Promise((resolve) => out.on('end', resolve));
  for (let at = 0; at < data.length; at += chunk) out.add(data.subarray(at, at + chunk));
  out.finish();
  await ended;
  return blocks;
}

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'bqsync-threads-'));

describe('row text blocks', () => {
  test('each block ends at a row end, and the blocks together are the data as it came', async () => {
    const data = copyText(6000);
    for (const chunk of [1, 1000, 64 * 1024, BLOCK_BYTES + 17, data.length]) {
      const blocks = await blocksOf(data, chunk);
      expect(Buffer.concat(blocks).equals(data)).toBe(true);
      for (const block of blocks) expect(block[block.length - 1]).toBe(0x0a);
      expect(blocks.length).toBeGreaterThan(data.length / BLOCK_BYTES - 1);
    }
  });

  test('a row longer than a block is kept whole in a larger block', async () => {
    const long = Buffer.from(`1\t${'y'.repeat(3 * BLOCK_BYTES)}\t\\N\t\\N\n2\tz\t\\N\t\\N\n`);
    const blocks = await blocksOf(long, 10_000);
    expect(Buffer.concat(blocks).equals(long)).toBe(true);
    const rows = blocks.flatMap((b) => {
      const got: unknown[][] = [];
      new CopyTextRows(FORMAT.types).push(b, (row) => got.push(row));
      return got;
    });
    expect(rows.map((r) => r[0])).toEqual(['1', '2']);
  });

  test('data that ends inside a row fails the stream, naming what is left', async () => {
    const out = new RowTextBlocks(FORMAT, () => undefined);
    const failed = new Promise<Error>((resolve) => out.on('error', resolve));
    out.resume();
    out.add(Buffer.from('1\ta\t\\N\t\\N\n2\tb'));
    out.finish();
    expect((await failed).message).toBe("the source's data ended inside a row (3 bytes after the last row end)");
  });
});

/** A pool whose threads answer in an order of their own: the encoding is the thread's, run here. */
function shuffledPool(): Piscina {
  let n = 0;
  return {
    run: async (task: EncodeTask) => {
      // Every third block is late: lines must still be written in the blocks' order.
      await new Promise((resolve) => setTimeout(resolve, n++ % 3 === 0 ? 30 : 0));
      return (encodeBlock(task) as Record<symbol, EncodedBlock>)[valueSymbol];
    },
  } as unknown as Piscina;
}

describe('staging files encoded on threads', () => {
  test('a gzip staging file, from the main thread or the threads, holds exactly the plain file', async () => {
    const dir = tmp();
    // Several megabytes: zlib fills many of its output buffers.
    const data = copyText(60_000);
    const parser = new CopyTextRows(FORMAT.types);
    const rows: unknown[][] = [];
    parser.push(data, (row) => rows.push(row));
    const batches = () => Readable.from(Array.from({ length: Math.ceil(rows.length / 512) }, (_, i) => rows.slice(i * 512, (i + 1) * 512)));
    const plain = path.join(dir, 'plain.json');
    await writeStagingFile(batches(), new RowEncoder(MAPPINGS), plain, () => undefined, { gzip: false });
    const zipped = path.join(dir, 'main.json.gz');
    const written = await writeStagingFile(batches(), new RowEncoder(MAPPINGS), zipped, () => undefined, { gzip: true });

    const blocks = new RowTextBlocks(FORMAT, () => undefined);
    for (let at = 0; at < data.length; at += 50_000) blocks.add(data.subarray(at, at + 50_000));
    blocks.finish();
    const threaded = path.join(dir, 'threaded.json.gz');
    await writeStagingFileInThreads(blocks, MAPPINGS, shuffledPool(), 4, threaded, () => undefined, { gzip: true });

    const expected = fs.readFileSync(plain);
    expect(expected.length).toBeGreaterThan(4 * 1024 * 1024);
    expect(written.bytes).toBe(expected.length);
    expect(zlib.gunzipSync(fs.readFileSync(zipped)).equals(expected)).toBe(true);
    expect(zlib.gunzipSync(fs.readFileSync(threaded)).equals(expected)).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the file is byte for byte the one the main thread writes, with the same rows and NULLed values', async () => {
    const dir = tmp();
    const data = copyText(20_000);
    const main = path.join(dir, 'main.json');
    const threaded = path.join(dir, 'threaded.json');
    const parser = new CopyTextRows(FORMAT.types);
    const rows: unknown[][] = [];
    parser.push(data, (row) => rows.push(row));
    const batches = Readable.from(Array.from({ length: Math.ceil(rows.length / 512) }, (_, i) => rows.slice(i * 512, (i + 1) * 512)));
    const encoder = new RowEncoder(MAPPINGS);
    const one = await writeStagingFile(batches, encoder, main, () => undefined, { gzip: false });

    const blocks = new RowTextBlocks(FORMAT, () => undefined);
    for (let at = 0; at < data.length; at += 50_000) blocks.add(data.subarray(at, at + 50_000));
    blocks.finish();
    const progress: number[] = [];
    const many = await writeStagingFileInThreads(blocks, MAPPINGS, shuffledPool(), 4, threaded, (p) => progress.push(p.rows), { gzip: false });

    expect(fs.readFileSync(threaded).equals(fs.readFileSync(main))).toBe(true);
    expect(many.rows).toBe(20_000);
    expect(many.bytes).toBe(one.bytes);
    expect(many.nulledValues).toEqual(encoder.nulledValues);
    expect(many.nulledValues).toEqual({ born: Math.floor(20_000 / 11) });
    expect(progress[progress.length - 1]).toBe(20_000);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("a block's failure fails the file, with the thread's message", async () => {
    const dir = tmp();
    const blocks = new RowTextBlocks(FORMAT, () => undefined);
    blocks.add(Buffer.from('1\ta\t\\N\t\\N\n2\tb\t\\N\n'));
    blocks.finish();
    await expect(writeStagingFileInThreads(blocks, MAPPINGS, shuffledPool(), 4, path.join(dir, 'f.json'), () => undefined, { gzip: false })).rejects.toThrow(
      'COPY row has fewer fields than the 4 columns read',
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('encoding threads by default', () => {
  test('one per core beyond the main thread, none on two cores or fewer', () => {
    expect([1, 2, 3, 4, 16].map((cores) => defaultEncodeThreads(cores))).toEqual([0, 0, 2, 3, 15]);
  });
});

describe('MySQL row packets as blocks', () => {
  /** A text protocol row: each value length-encoded (1, 3 or 4 byte lengths), NULL as 0xfb. */
  const packet = (values: (Buffer | null)[]) =>
    Buffer.concat(
      values.map((v) => {
        if (v === null) return Buffer.from([0xfb]);
        if (v.length < 251) return Buffer.concat([Buffer.from([v.length]), v]);
        if (v.length < 65536) return Buffer.concat([Buffer.from([0xfc, v.length & 0xff, v.length >> 8]), v]);
        return Buffer.concat([Buffer.from([0xfd, v.length & 0xff, (v.length >> 8) & 0xff, v.length >> 16]), v]);
      }),
    );
  const fields = [
    { name: 'id', columnType: 3, encoding: 'binary' },
    { name: 'note', columnType: 253, encoding: 'utf8' },
    { name: 'legacy', columnType: 253, encoding: 'cp1250' },
    { name: 'raw', columnType: 252, encoding: 'binary' },
  ];
  const MYSQL_FORMAT = { kind: 'mysql-rows' as const, fields, bytesColumns: [false, false, false, true] };

  test('rows framed into blocks decode to the values, a row longer than a block and a character set Node lacks included', async () => {
    const long = 'ł'.repeat(BLOCK_BYTES);
    const rows: (string | Buffer | null)[][] = [];
    for (let i = 0; i < 3000; i++) rows.push([String(i), i === 1500 ? long : `note ${i} ✓`, i % 3 === 0 ? null : 'Zażółć', Buffer.from([i & 0xff, 0, 0xff])]);
    const out = new RowTextBlocks(MYSQL_FORMAT, () => undefined);
    const blocks: Buffer[] = [];
    out.on('data', (b: Buffer) => blocks.push(b));
    const ended = new Promise((resolve) => out.on('end', resolve));
    for (const row of rows) {
      // A packet as mysql2 holds it: the row's bytes inside a larger buffer.
      const payload = packet(row.map((v, c) => (v === null ? null : c === 2 ? iconv.encode(v as string, 'cp1250') : Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8'))));
      const around = Buffer.concat([Buffer.from('head'), payload, Buffer.from('tail')]);
      out.addRow(around, 4, 4 + payload.length);
    }
    out.finish();
    await ended;
    expect(blocks.length).toBeGreaterThan(2);
    const decoded: unknown[][] = [];
    for (const block of blocks) rowTextDecoder(MYSQL_FORMAT).decode(block, (row) => decoded.push(row));
    expect(decoded).toEqual(rows);
  });
});
