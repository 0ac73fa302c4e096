/**
 * What a bucket is besides its objects: region, owner, creation time, storage class, ACL, lifecycle
 * rules. Kept in `<dataDir>/<bucket>/bucket.json`, written before the bucket becomes visible and
 * rewritten whole when a setting changes, so a restart finds every bucket as it was left. A bucket
 * folder without the file (made by an earlier version of the store, which had no bucket settings)
 * is read as a bucket of the store's defaults.
 */
import { open, readFile, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { syncDirectory, writeFully } from '../file-writes.ts';
import type { LifecycleRule } from './lifecycle.ts';

/** The storage classes PutBucket accepts (OSS PutBucket: Standard, IA, Archive, ColdArchive, DeepColdArchive). */
export const STORAGE_CLASSES = ['Standard', 'IA', 'Archive', 'ColdArchive', 'DeepColdArchive'] as const;
export type StorageClass = (typeof STORAGE_CLASSES)[number];
/** Canned bucket ACLs (`x-oss-acl`). */
export const BUCKET_ACLS = ['private', 'public-read', 'public-read-write'] as const;
export type BucketAcl = (typeof BUCKET_ACLS)[number];
/** Redundancy types (`DataRedundancyType`). */
export const REDUNDANCY_TYPES = ['LRS', 'ZRS'] as const;
export type RedundancyType = (typeof REDUNDANCY_TYPES)[number];

export interface BucketInfo {
  name: string;
  /** ali-oss form: `oss-cn-hangzhou`. */
  region: string;
  /** The account (UID) that owns the bucket. */
  ownerAccountId: string;
  /** Milliseconds since the epoch. */
  creationDate: number;
  storageClass: StorageClass;
  acl: BucketAcl;
  dataRedundancyType: RedundancyType;
  /** Lifecycle rules (PutBucketLifecycle), absent when the bucket has none. */
  lifecycle?: LifecycleRule[];
}

/** What a bucket is created with when nothing else is said. */
export interface BucketDefaults {
  region: string;
  ownerAccountId: string;
}

const FILE = 'bucket.json';

/** The settings of the bucket in `dir`, or the defaults (dated by the folder) when it has none. */
export async function readBucketInfo(dir: string, name: string, defaults: BucketDefaults): Promise<BucketInfo> {
  const text = await readFile(path.join(dir, FILE), 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (text === undefined) {
    const made = await stat(dir);
    return { name, ...defaults, creationDate: Math.floor(made.mtimeMs / 1000) * 1000, storageClass: 'Standard', acl: 'private', dataRedundancyType: 'LRS' };
  }
  const { v, ...info } = JSON.parse(text) as BucketInfo & { v: number };
  if (v !== 1) throw new Error(`${path.join(dir, FILE)}: unknown version ${v}`);
  return { ...info, name };
}

/** Writes the settings whole (a temporary file renamed over the old one), synced when `fsync`. */
export async function writeBucketInfo(dir: string, info: BucketInfo, fsync: boolean): Promise<void> {
  const file = path.join(dir, FILE);
  const temporary = `${file}.tmp`;
  const handle = await open(temporary, 'w');
  try {
    await writeFully(handle, [Buffer.from(JSON.stringify({ v: 1, ...info }), 'utf8')], 0);
    if (fsync) await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, file);
  if (fsync) await syncDirectory(dir);
}

/** `cn-beijing` or `oss-cn-beijing` → `oss-cn-beijing`. */
export function ossRegion(region: string): string {
  return region.startsWith('oss-') ? region : `oss-${region}`;
}
