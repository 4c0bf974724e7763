import { BaseError } from '../errors.js'

/**
 * The planner's inputs or parameters are inconsistent: no plan is produced.
 * `field` names the offending input (a path such as `venues[3].reserve0` or `params.maxLegs`), `rule` the rule broken.
 */
export class PlanInputError extends BaseError {
  override name = 'PlanInputError' as const
  readonly field: string
  readonly rule: string
  constructor(field: string, rule: string, value?: unknown) {
    super(`Invalid planner input "${field}": ${rule}.`, {
      metaMessages: [
        `Field: ${field}`,
        ...(value === undefined ? [] : [`Value: ${String(value)}`]),
        'Fix the snapshot or the parameters; no plan is produced from inconsistent inputs.',
      ],
    })
    this.field = field
    this.rule = rule
  }
}
