// The fixture function (template.yml beside it): does what the event asks, then reports its clock and the time left.
export async function handler(event, context) {
  if (event.sleepMs) await new Promise((resolve) => setTimeout(resolve, event.sleepMs));
  if (event.exitCode !== undefined) process.exit(event.exitCode);
  if (event.throwString) throw event.throwString;
  if (event.consoleLog) console.log(event.consoleLog);
  return { now: Date.now(), remainingMs: context.getRemainingTimeInMillis(), execArgv: process.execArgv };
}
