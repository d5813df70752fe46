// Public door of namesrv/: the name server (routes from topics to brokers).
export { NameServer, NAMESRV_DEFAULTS, resolveNameServerConfig, type NameServerConfig } from './name-server.js';
