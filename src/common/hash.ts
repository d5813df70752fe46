// String hashes used by the on-disk indexes. Java's String.hashCode semantics
// (31-polynomial over UTF-16 code units) keeps tag codes stable across
// languages, so a tool written elsewhere can compute the same filter codes.

export function stringHash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** The tag code stored in ConsumeQueue entries: 0 means "no tag". */
export function tagsCode(tags: string | undefined): number {
  if (tags === undefined || tags === '') return 0;
  return stringHash(tags) >>> 0 || 1;
}
