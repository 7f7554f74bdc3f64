/** SAM's default MemorySize for AWS::Serverless::Function, in MB. */
export const DEFAULT_MEMORY_SIZE_MB: 128;

/** The flags Lambda's Node.js bootstrap passes to node for a function of `memorySizeMb` MB, before the runtime's
 * script. Throws RangeError for a memory size Lambda does not accept (128 to 10240 MB, whole MB). */
export function lambdaNodeArgs(memorySizeMb: number): string[];

/** The MemorySize of the one AWS::Serverless::Function in a parsed SAM template (its own, else Globals.Function's,
 * else SAM's default). Throws when the template does not have exactly one function or the value is not a number. */
export function memorySizeOf(template: unknown): number;
