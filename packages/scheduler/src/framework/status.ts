// Plugin result codes and Status, as upstream's framework.Status: a code, the reasons shown to users,
// and the plugin that produced it.

export const Code = {
  Success: 'Success',
  Error: 'Error',
  /** The pod does not fit now; preemption or a cluster change may help. */
  Unschedulable: 'Unschedulable',
  /** The pod does not fit and preempting pods on this node will not help. */
  UnschedulableAndUnresolvable: 'UnschedulableAndUnresolvable',
  Wait: 'Wait',
  /** The plugin has nothing to do for this pod (PreFilter/PreScore): its Filter/Score is skipped. */
  Skip: 'Skip',
} as const;
export type Code = (typeof Code)[keyof typeof Code];

export class Status {
  plugin = '';
  constructor(
    readonly code: Code,
    readonly reasons: readonly string[] = [],
  ) {}

  static success(): Status {
    return SUCCESS;
  }
  static unschedulable(...reasons: string[]): Status {
    return new Status(Code.Unschedulable, reasons);
  }
  static unresolvable(...reasons: string[]): Status {
    return new Status(Code.UnschedulableAndUnresolvable, reasons);
  }
  static error(message: string): Status {
    return new Status(Code.Error, [message]);
  }
  static skip(): Status {
    return SKIP;
  }

  isSuccess(): boolean {
    return this.code === Code.Success;
  }
  isSkip(): boolean {
    return this.code === Code.Skip;
  }
  isRejected(): boolean {
    return this.code === Code.Unschedulable || this.code === Code.UnschedulableAndUnresolvable;
  }
  message(): string {
    return this.reasons.join(', ');
  }
  withPlugin(name: string): Status {
    if (this === SUCCESS || this === SKIP) return this;
    this.plugin = name;
    return this;
  }
}

const SUCCESS = new Status(Code.Success);
const SKIP = new Status(Code.Skip);

/** Upstream's MaxNodeScore: every Score plugin's normalised score is in [0, 100]. */
export const MAX_NODE_SCORE = 100;
export const MIN_NODE_SCORE = 0;
