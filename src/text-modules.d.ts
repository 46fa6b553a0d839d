// Files imported as text (wrangler.toml `[[rules]] type = "Text"`).
declare module "*/standalone.js" {
  const text: string;
  export default text;
}
