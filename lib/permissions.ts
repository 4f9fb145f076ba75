/**
 * Permission strings `action:object[:resource]` with `*` globs (PROTOCOL.md section 5).
 * A grant without a resource covers every resource (`join:room` grants `join:room:lobby`);
 * a grant with one covers that resource only, even where resources hold colons
 * (`join:room:team` does not grant room `team:admins`); `admin:system` grants everything.
 * Grants are compiled once per identity, so a check is a Set lookup in the common case.
 */

export const ADMIN_PERMISSION = 'admin:system'

/** A compiled set of grants. */
export class Permissions {
  static readonly none = new Permissions([])
  // Optimization: every anonymous connection carries the same grants list; compiling it
  // once saves an array copy and a Set per connection (about 250 B of heap each).
  private static readonly compiled = new WeakMap<readonly string[], Permissions>()
  readonly list: readonly string[]
  readonly all: boolean
  private readonly exact: Set<string>
  private readonly globs: RegExp[]

  constructor(grants: readonly string[]) {
    this.list = grants.slice()
    this.all = grants.includes(ADMIN_PERMISSION) || grants.includes('*')
    this.exact = new Set()
    this.globs = []
    for (const grant of grants) {
      if (grant.includes('*')) this.globs.push(globToRegExp(grant))
      else this.exact.add(grant)
    }
  }

  /**
   * The compiled grants of a list, shared by every identity that carries the same list
   * (compiled again if the list was changed since).
   *
   * @example
   * ```ts
   * Permissions.of(config.auth.anonymous_permissions) === Permissions.of(config.auth.anonymous_permissions)   // true
   * ```
   */
  static of(grants: readonly string[]): Permissions {
    const known = Permissions.compiled.get(grants)
    if (known !== undefined && known.list.length === grants.length && known.list.every((grant, i) => grant === grants[i])) return known
    const compiled = new Permissions(grants)
    Permissions.compiled.set(grants, compiled)
    return compiled
  }

  /**
   * @example
   * ```ts
   * new Permissions(['join:room:*']).has('join:room:lobby')   // true
   * ```
   */
  has(required: string): boolean {
    if (this.all || this.exact.has(required)) return true
    // A grant without a resource covers every resource: `action:object` and `action`, but
    // no longer prefix, which would be a resource of its own (room `team` of `team:admins`).
    const action = required.indexOf(':')
    if (action > 0) {
      const object = required.indexOf(':', action + 1)
      if (object > 0 && this.exact.has(required.slice(0, object))) return true
      if (this.exact.has(required.slice(0, action))) return true
    }
    for (const glob of this.globs) if (glob.test(required)) return true
    return false
  }
}

function globToRegExp(glob: string): RegExp {
  const body = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')
  // `join:room:*` also grants `join:room` itself; a trailing `:*` makes the tail optional.
  return new RegExp(body.endsWith(':.*') ? `^${body.slice(0, -3)}(:.*)?$` : `^${body}$`)
}
