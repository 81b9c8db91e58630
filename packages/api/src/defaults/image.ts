// Image reference parsing, just enough to pick a container's default imagePullPolicy the way the
// apiserver does (upstream pkg/util/parsers ParseImageName on top of the distribution reference
// grammar): a reference with neither tag nor digest means tag "latest"; a reference that does not
// parse has no tag at all.

// Grammar of a distribution reference (github.com/distribution/reference regexp.go), rebuilt here.
const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]+)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|${IPV6})(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const REFERENCE = new RegExp(
  `^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::(${TAG}))?(?:@(${DIGEST}))?$`,
);
const HEX64 = /^[a-f0-9]{64}$/;
const NAME_TOTAL_LENGTH_MAX = 255;

export interface ParsedImage {
  /** Repository as written (not normalised to docker.io/library). */
  repository: string;
  /** The tag; "latest" when the reference names neither tag nor digest. */
  tag: string;
  digest: string;
}

/** Parses an image reference; returns undefined when the apiserver's parser would reject it. */
export function parseImageName(image: string): ParsedImage | undefined {
  if (image === '' || HEX64.test(image)) return undefined;
  const m = REFERENCE.exec(image);
  if (!m) return undefined;
  const repository = m[1]!;
  if (repository.length > NAME_TOTAL_LENGTH_MAX) return undefined;
  let tag = m[2] ?? '';
  const digest = m[3] ?? '';
  if (tag === '' && digest === '') tag = 'latest';
  return { repository, tag, digest };
}

/** `Always` when the image's tag is (implicitly) `latest`, `IfNotPresent` otherwise (digests included). */
export function defaultImagePullPolicy(image: string | undefined): 'Always' | 'IfNotPresent' {
  return parseImageName(image ?? '')?.tag === 'latest' ? 'Always' : 'IfNotPresent';
}
