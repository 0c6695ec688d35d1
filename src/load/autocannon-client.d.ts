// autocannon's HTTP client, checked at load by honour-connection-close.ts; it ships no types.
declare module 'autocannon/lib/httpClient.js' {
  const Client: unknown;
  export default Client;
}
