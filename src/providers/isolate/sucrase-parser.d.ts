// Sucrase's parser, which `transform` uses, ships without declarations at this path; only
// what typescript.ts reads of it is declared.
declare module "sucrase/dist/esm/parser/index.js" {
  export function parse(
    input: string,
    isJSXEnabled: boolean,
    isTypeScriptEnabled: boolean,
    isFlowEnabled: boolean,
  ): { tokens: { start: number; end: number; isType: boolean }[] };
}
