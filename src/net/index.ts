// Public door of net/: framed TCP transport shared by broker, name server and clients.
export { FrameConnection, type FrameConnectionHandlers, type FrameConnectionFlow } from './frame-connection.js';
export { RequestServer, type RequestServerOptions, type Handler, type Reply, type RequestContext } from './request-server.js';
export { RequestClient, type RequestClientOptions } from './request-client.js';
export { parseAddress, formatAddress, type Address } from './address.js';
export { CONNECTION_LIMIT_DEFAULTS, LIMIT, checkConnectionLimits, connectionLimitsOf, type ConnectionLimits } from './connection-limits.js';
