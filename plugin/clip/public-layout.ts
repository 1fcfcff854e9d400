/**
 * What the browser reads, and where (design §5). Browser-safe: compositions and the Node
 * publisher share these names. Everything lives in one subfolder of Remotion's public dir, so the
 * user's own assets stay beside it untouched:
 *
 *   <publicDir>/fatezero/index/<descriptorKey>.json       → {editKey, sourceKey, …}
 *   <publicDir>/fatezero/clips/<editKey>/00000.png …       + manifest.json
 *   <publicDir>/fatezero/sources/<sourceKey>/frames/00000.png …   (the 'source' variant)
 *
 * A deployed bundle can read the same tree from a URL (frameBaseUrl) instead.
 */
export const PUBLIC_SUBFOLDER = 'fatezero';

/** The bundle-side variable (Remotion passes REMOTION_* variables into the page) naming a frame base URL for every clip. */
export const FRAME_BASE_URL_ENV = 'REMOTION_FATEZERO_FRAME_BASE_URL';

export const publicIndexPath = (descriptorKey: string): string => `index/${descriptorKey}.json`;
export const publicClipPath = (editKey: string, name: string): string => `clips/${editKey}/${name}`;
export const publicSourceFramePath = (sourceKey: string, name: string): string => `sources/${sourceKey}/frames/${name}`;
export const frameFileName = (index: number): string => `${String(index).padStart(5, '0')}.png`;
