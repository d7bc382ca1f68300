import picomatch from 'picomatch';

export interface DiscoverRule {
  include: string[];
  exclude: string[];
}

/** The tables of a source that discovery picks: matching an include and no exclude pattern. */
export function discoveredTables(all: string[], rule: DiscoverRule): string[] {
  const include = picomatch(rule.include);
  const exclude = rule.exclude.length ? picomatch(rule.exclude) : () => false;
  return all.filter((t) => include(t) && !exclude(t));
}

/**
 * Why a source whose discovery found nothing fails the run rather than succeeding with no
 * tables: a wrong pattern, a wrong schema or a user that lost its privileges all look like
 * this, and a green run that copied nothing would hide them until someone reads a stale table.
 */
export function nothingDiscoveredMessage(file: string, source: string, schema: string | undefined, rule: DiscoverRule, all: string[]): string {
  const where = schema ? `schema "${schema}"` : 'the database of its URL';
  const seen = all.length === 0 ? 'which holds no base tables this user can see' : `which holds ${all.length} base table(s), e.g. ${all.slice(0, 5).map((t) => JSON.stringify(t)).join(', ')}`;
  return (
    `${file}: sources.${source}: discovery found no table to sync in ${where} (${seen}) with ` +
    `include: ${JSON.stringify(rule.include)}` +
    (rule.exclude.length ? `, exclude: ${JSON.stringify(rule.exclude)}` : '') +
    `. Check sources.${source}.discover and sources.${source}.schema, and that the source's user may read the tables; ` +
    'or remove the source from the pipeline'
  );
}
