// Types of the iamgate npm package (iamgate.js).

export type Answer<T> = ({ result: "success" } & T) | { result: "failure"; errors: ApiError[] };

/** 1-based line; 1-based column in UTF-16 code units (as JavaScript strings count); the byte span in UTF-8. */
export interface Place {
  line: number;
  column: number;
  end_line: number;
  end_column: number;
  span: { start: number; end: number };
}

export interface ApiError extends Partial<Place> {
  message: string;
  help?: string;
  code?: string;
  /** The policy the error is in: `identity[0]`, `boundary`, `scps[1][0]`, `endpoint`, ... */
  policy?: string;
  /** The JSON path in the call's input. */
  path?: string;
}

export type Severity = "error" | "warning";
export type PolicyKind = "identity" | "resource" | "boundary" | "session" | "scp" | "rcp" | "endpoint" | "trust" | "key";
export type Decision = "Allow" | "ExplicitDeny" | "ImplicitDeny";

export interface LintDiagnostic extends Place {
  severity: Severity;
  code: string;
  message: string;
  help?: string;
  related?: (Place & { label: string })[];
}

export interface Linted {
  diagnostics: LintDiagnostic[];
  errors: number;
  warnings: number;
}

/** A policy: its text, or the policy document as an object. */
export type PolicyInput = string | object;

/** The Case contract's policy fields. */
export interface PolicySetInput {
  identity_policies?: PolicyInput[];
  resource_policy?: PolicyInput;
  permissions_boundary?: PolicyInput;
  session_policies?: PolicyInput[];
  /** Levels, root first; each level a list of policies. */
  scps?: PolicyInput[][];
  rcps?: PolicyInput[][];
  endpoint_policy?: PolicyInput;
  /** The endpoint policy's endpoint: "interface" (default) or "gateway". */
  endpoint_kind?: "interface" | "gateway";
  /** The resource policy: "resource" (default), "trust" or "key"; a case's `request` decides when absent. */
  resource_kind?: "resource" | "trust" | "key";
}

export type ContextValue = string | number | boolean | (string | number | boolean)[];

export interface Request {
  principal?: string;
  action: string;
  resource: string;
  resource_account?: string;
  context?: Record<string, ContextValue>;
}

export type Reason =
  | { policy: string; sid: string | null; statement: number; effect: "Allow" | "Deny" }
  | { policy: string; effect: "NoAllow" };

export interface Decided {
  decision: Decision;
  reasons: Reason[];
}

/** What a condition's `held` rests on (docs/FORMATS.md §2). */
export type Outcome =
  | "matched"
  | "no-match"
  | "absent-for-all-values"
  | "absent-for-any-value"
  | "absent-if-exists"
  | "absent-negated"
  | "absent-positive"
  | "null-absent"
  | "null-present";

export interface ConditionOut {
  operator: string;
  key: string;
  held: boolean;
  why: string;
  uncertain?: string;
  /** From the key to the end of its values, in the policy's text. */
  place: Place | null;
  outcome: Outcome;
  /** The policy's values for the key, as written. */
  values: string[];
  /** The request's values of the key; null when the request does not give it. */
  request_values: string[] | null;
  /** Which of `request_values` matched a policy value under the operator's positive form. */
  matched_values: string[];
}

export interface StatementOut {
  policy: string;
  statement: number;
  sid: string | null;
  effect: "Allow" | "Deny";
  applies: boolean;
  action_matched: boolean;
  resource_matched: boolean;
  principal_matched: boolean;
  place: Place | null;
  conditions: ConditionOut[];
}

export interface Explained {
  decision: Decision;
  /** As `Decided`'s, each deciding statement with its place in its policy's text. */
  reasons: (Reason & { place?: Place })[];
  warnings: string[];
  deciding: StatementOut[];
  statements: StatementOut[];
}

export type StepDecision = Decision | "Mixed" | "Unreachable";
export type Verdict = "works" | "create-denied" | "use-denied" | "partial" | "unreachable";

export interface Finding {
  code: string;
  severity: Severity;
  message: string;
  policy: string;
  endpoint?: string;
  sid: string | null;
  statement: number | null;
  line: number;
  column: number;
  help: string;
  step?: "create" | "use";
}

export interface Step {
  step: "create" | "use";
  host: string;
  endpoint: string | null;
  path: string[];
  context: Record<string, unknown>;
  outcomes: { source_ip: string; decision: Decision; reasons: Reason[] }[];
  decision: StepDecision;
}

export interface Presigned {
  network: string;
  steps: Step[];
  verdict: Verdict;
  findings: Finding[];
}

export interface PresignInput {
  /** The network (docs/network.md), as an object or its text. */
  network: object | string;
  /** Feed texts keyed by the name the network gives them (`cenr`, `aws_ip_ranges`). */
  feeds?: Record<string, string>;
}

export type Origin =
  | { path: "public"; source_ip: string[]; decision: Decision; reasons: Reason[] }
  | { path: "endpoint"; vpce: string | string[]; vpc: string | string[]; vpc_source_ip: string[]; decision: Decision; reasons: Reason[] }
  | { path: "via-aws-service"; source_ip: string[]; decision: Decision; reasons: Reason[] };

export interface Reached {
  steps: { step: "create" | "use"; origins: Origin[] }[];
}

export type ReachInput =
  | PresignInput
  | {
      request: Request;
      api_endpoint?: { id: string; policy?: PolicyInput };
      studio_endpoint?: { id: string; policy?: PolicyInput };
    };

export declare class PolicySet {
  decide(request: Request | string): Answer<Decided>;
  /** JSON text in, JSON text out (the fastest path). */
  decideJson(request: string): string;
  /** The decision alone, by the fastest path (no JSON; only the fields that changed since the last call are sent
   * to the module); a refused request answers its failure. */
  decideFast(request: Request): Decision | { result: "failure"; errors: ApiError[] };
  explain(request: Request | string): Answer<Explained>;
  presign(input: PresignInput | string): Answer<Presigned>;
  reach(input: ReachInput | string): Answer<Reached>;
  /** Release the set's memory; later calls answer a failure. */
  free(): void;
}

export interface Iamgate {
  readonly version: string;
  /** How many calls panicked since load (each answered a failure). */
  readonly panics: number;
  /** Whether a panic's failure carries the panic's message: false in the smaller build whose panics abort at once
   * (wasm/build.sh on nightly), where the failure says only that a panic happened. */
  readonly panicMessages: boolean;
  lint(policy: string, kind?: PolicyKind): Answer<Linted>;
  compile(policies: PolicySetInput | string): Answer<{ set: PolicySet }>;
  /** Forget the fields decideFast holds between calls (it sends only those that changed): the next call sends
   * every field. Never needed for correct decisions. */
  forgetFields(): void;
  panicForTests(): Answer<{}>;
}

/** Load the module once: the .wasm bytes, a WebAssembly.Module, a URL, or nothing (the file next to this one). */
export declare function load(source?: BufferSource | WebAssembly.Module | URL | string): Promise<Iamgate>;
