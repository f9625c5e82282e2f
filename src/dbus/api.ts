/**
 * The names of facegate's D-Bus API (docs/dbus.md). One place, so the service, the client helper, the policy
 * file and the docs cannot drift apart.
 */
export const BUS_NAME = 'org.facegate.Daemon';
export const OBJECT_PATH = '/org/facegate/Daemon';
export const INTERFACE = 'org.facegate.Daemon';
/** Bumped when a method or signal changes incompatibly; reported by GetStatus as `api_version`. */
export const API_VERSION = 1;

/** Errors a method call can get, besides org.freedesktop.DBus.Error.UnknownMethod. */
export const ERRORS = {
  /** The call's signature is not the method's (e.g. Verify with an integer). */
  invalidArgs: 'org.facegate.Error.InvalidArgs',
  /** The user name is not a valid login name (syntax, length, control characters). */
  invalidUser: 'org.facegate.Error.InvalidUser',
  /** The caller's uid may not act for that user, or the bus could not tell who the caller is. */
  permissionDenied: 'org.facegate.Error.PermissionDenied',
  /** This caller already has a verification running; Cancel it or wait for VerifyResult. */
  alreadyInProgress: 'org.facegate.Error.AlreadyInProgress',
  /** Cancel without a verification of this caller running. */
  noVerifyInProgress: 'org.facegate.Error.NoVerifyInProgress',
  /** Too many verifications over D-Bus at once. */
  tooManyRequests: 'org.facegate.Error.TooManyRequests',
  /** The daemon is stopping. */
  shuttingDown: 'org.facegate.Error.ShuttingDown',
  /** Something failed inside the daemon (the template database, …); the message says what, never a stack. */
  internal: 'org.facegate.Error.Internal',
} as const;

export type ErrorName = (typeof ERRORS)[keyof typeof ERRORS];

/**
 * The handlers' signatures: what each method takes and replies, and what each signal carries. The contract
 * itself is dbus/org.facegate.Daemon.xml; src/dbus/contract.ts refuses to serve a file that says otherwise.
 */
export const METHODS = {
  Verify: 's',
  Cancel: '',
  ListEnrolled: 's',
  GetStatus: '',
} as const;

export type MethodName = keyof typeof METHODS;

export const METHOD_REPLIES: { readonly [M in MethodName]: string } = {
  Verify: '',
  Cancel: '',
  ListEnrolled: 'a(sss)',
  GetStatus: 'a{sv}',
};

export const SIGNALS = {
  VerifyStatus: 'sb',
  VerifyResult: 'ss',
} as const;

export type SignalName = keyof typeof SIGNALS;

/** The standard interfaces the object also answers (src/dbus/service.ts), appended to the contract's. */
export const STANDARD_INTERFACES = `  <interface name="org.freedesktop.DBus.Introspectable">
    <method name="Introspect">
      <arg name="xml_data" type="s" direction="out"/>
    </method>
  </interface>
  <interface name="org.freedesktop.DBus.Properties">
    <method name="Get">
      <arg name="interface_name" type="s" direction="in"/>
      <arg name="property_name" type="s" direction="in"/>
      <arg name="value" type="v" direction="out"/>
    </method>
    <method name="GetAll">
      <arg name="interface_name" type="s" direction="in"/>
      <arg name="properties" type="a{sv}" direction="out"/>
    </method>
    <method name="Set">
      <arg name="interface_name" type="s" direction="in"/>
      <arg name="property_name" type="s" direction="in"/>
      <arg name="value" type="v" direction="in"/>
    </method>
  </interface>
  <interface name="org.freedesktop.DBus.Peer">
    <method name="Ping"/>
    <method name="GetMachineId">
      <arg name="machine_uuid" type="s" direction="out"/>
    </method>
  </interface>
`;

/** Introspection of an ancestor of OBJECT_PATH: no interfaces of its own, one child node. */
export function parentIntrospection(child: string): string {
  return `<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">
<node>
  <node name="${child}"/>
</node>
`;
}
