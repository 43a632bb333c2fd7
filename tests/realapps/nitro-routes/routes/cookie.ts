export default () => {
  const headers = new Headers({ "content-type": "text/plain" });
  headers.append("set-cookie", "session=abc; Path=/; HttpOnly");
  headers.append("set-cookie", "theme=dark; Path=/");
  return new Response("cookies set", { headers });
};
