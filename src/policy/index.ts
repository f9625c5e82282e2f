// One home for facegate's policy (docs/policy.md): who may ask for whom, and what counts as local. The socket
// server and the D-Bus front end both decide through here; pam/policy.c is the C copy of the local rule.
export { mayAskFor, mayReset } from './ask.js';
export {
  classifyLocality,
  sessionKind,
  summariseUser,
  LOCALITIES,
  SESSION_KINDS,
  SESSION_STATES,
  USER_STATES,
  type Locality,
  type LocalityInput,
  type SessionFacts,
  type SessionKind,
  type SessionState,
  type UserState,
} from './locality.js';
export {
  sessionOfPid,
  sessionIdFromCgroup,
  sessionFacts,
  remoteFlag,
  realUidFromStatus,
  userSessionsOf,
  userSessionsOfPid,
  SYSTEM_PATHS,
  type SessionPaths,
} from './session.js';
export { isGreeter } from './services.js';
export { pamServiceProblems } from './pam-lines.js';
