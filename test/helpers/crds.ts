// Test helper: installs every fledge CRD on a sandbox API server and waits until their APIs are served.
export { installCrds } from '../../crds/install.js';
