/** One word for bash: single-quoted, with embedded single quotes closed, escaped and reopened. */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** An argv as a bash command line that runs exactly those words (no expansion, no splitting). */
export function quoteArgv(argv: string[]): string {
  return argv.map(shellQuote).join(" ");
}
