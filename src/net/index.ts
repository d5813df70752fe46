// Public door of net/: framed TCP transport shared by broker, name server and clients.
export { FrameConnection, type FrameConnectionHandlers } from './frame-connection.js';
export { RequestServer, type RequestServerOptions, type Handler, type Reply, type RequestContext } from './request-server.js';
export { RequestClient, type RequestClientOptions } from './request-client.js';
export { UNAUTHENTICATED, ACCESS_DENIED, DEFAULT_AUTH_TIMEOUT_MS } from './auth-gate.js';
export { parseAddress, formatAddress, type Address } from './address.js';
