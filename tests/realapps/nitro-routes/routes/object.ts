export default () => ({ ok: true, kind: "object" });
