// Files a test reads as text through Vite's `?raw` suffix (configuration it checks).
declare module "*?raw" {
  const text: string;
  export default text;
}
