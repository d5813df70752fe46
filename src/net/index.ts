// Public door of net/: framed TCP (optionally TLS) transport shared by broker, name server and clients.
export { FrameConnection, type FrameConnectionHandlers, type FrameConnectionFlow } from './frame-connection.js';
export { RequestServer, type RequestServerOptions, type Handler, type Reply, type RequestContext } from './request-server.js';
export { RequestClient, type RequestClientOptions } from './request-client.js';
export { UNAUTHENTICATED, ACCESS_DENIED, DEFAULT_AUTH_TIMEOUT_MS } from './auth-gate.js';
export { parseAddress, formatAddress, type Address } from './address.js';
export {
  checkTlsClientOptions,
  checkTlsServerOptions,
  loadClientTls,
  loadServerTls,
  TLS_HANDSHAKE_TIMEOUT_MS,
  TLS_MIN_VERSION,
  type ClientTls,
  type ServerTls,
  type TlsClientOptions,
  type TlsServerOptions,
} from './tls-options.js';
export { TLS_HANDSHAKE_REFUSAL } from './transport.js';
export { CONNECTION_LIMIT_DEFAULTS, LIMIT, checkConnectionLimits, connectionLimitsOf, type ConnectionLimits } from './connection-limits.js';
export { MetricsServer, checkMetricsListen, type MetricsServerOptions, type MetricsSource } from './metrics-server.js';
