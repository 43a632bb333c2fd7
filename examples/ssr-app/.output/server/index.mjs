import "./chunks/_/polyfills.mjs";
export { h as handler } from "./chunks/nitro/nitro.mjs";
