// Column definitions of the tables kube-apiserver v1.26 prints for built-in resources: names, types,
// formats, priorities and descriptions (taken from the API's field docs) exactly as it publishes them.

/** One metav1.TableColumnDefinition; every field is always serialized, `format` and `priority` too. */
export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export const NAME_DESCRIPTION =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: http://kubernetes.io/docs/user-guide/identifiers#names';

export const CREATION_TIMESTAMP_DESCRIPTION =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

const CONTAINERS_DESCRIPTION = 'Names of each container in the template.';
const IMAGES_DESCRIPTION = 'Images referenced by each container in the template.';

function col(name: string, type: string, description: string, priority = 0, format = ''): ColumnDefinition {
  return { name, type, format, description, priority };
}

const nameColumn = (): ColumnDefinition => col('Name', 'string', NAME_DESCRIPTION, 0, 'name');
const ageColumn = (): ColumnDefinition => col('Age', 'string', CREATION_TIMESTAMP_DESCRIPTION);

export const DEPLOYMENT_COLUMNS: readonly ColumnDefinition[] = [
  nameColumn(),
  col('Ready', 'string', 'Number of the pod with ready state'),
  col(
    'Up-to-date',
    'string',
    'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
  ),
  col(
    'Available',
    'string',
    'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
  ),
  ageColumn(),
  col('Containers', 'string', CONTAINERS_DESCRIPTION, 1),
  col('Images', 'string', IMAGES_DESCRIPTION, 1),
  col(
    'Selector',
    'string',
    'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.',
    1,
  ),
];

export const REPLICA_SET_COLUMNS: readonly ColumnDefinition[] = [
  nameColumn(),
  col(
    'Desired',
    'integer',
    'Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller',
  ),
  col(
    'Current',
    'integer',
    'Replicas is the most recently oberved number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller',
  ),
  col(
    'Ready',
    'integer',
    'readyReplicas is the number of pods targeted by this ReplicaSet with a Ready Condition.',
  ),
  ageColumn(),
  col('Containers', 'string', CONTAINERS_DESCRIPTION, 1),
  col('Images', 'string', IMAGES_DESCRIPTION, 1),
  col(
    'Selector',
    'string',
    'Selector is a label query over pods that should match the replica count. If the selector is empty, it is defaulted to the labels present on the pod template. Label keys and values that must match in order to be controlled by this replica set. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
    1,
  ),
];

export const DAEMON_SET_COLUMNS: readonly ColumnDefinition[] = [
  nameColumn(),
  col(
    'Desired',
    'integer',
    'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/',
  ),
  col(
    'Current',
    'integer',
    'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/',
  ),
  col(
    'Ready',
    'integer',
    'numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.',
  ),
  col('Up-to-date', 'integer', 'The total number of nodes that are running updated daemon pod'),
  col(
    'Available',
    'integer',
    'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)',
  ),
  col(
    'Node Selector',
    'string',
    "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
  ),
  ageColumn(),
  col('Containers', 'string', CONTAINERS_DESCRIPTION, 1),
  col('Images', 'string', IMAGES_DESCRIPTION, 1),
  col(
    'Selector',
    'string',
    'A label query over pods that are managed by the daemon set. Must match in order to be controlled. If empty, defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
    1,
  ),
];

export const POD_COLUMNS: readonly ColumnDefinition[] = [
  nameColumn(),
  col('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
  col('Status', 'string', 'The aggregate status of the containers in this pod.'),
  col(
    'Restarts',
    'string',
    'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
  ),
  ageColumn(),
  col(
    'IP',
    'string',
    'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
    1,
  ),
  col(
    'Node',
    'string',
    'NodeName is a request to schedule this pod onto a specific node. If it is non-empty, the scheduler simply schedules this pod onto that node, assuming that it fits resource requirements.',
    1,
  ),
  col(
    'Nominated Node',
    'string',
    'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.',
    1,
  ),
  col(
    'Readiness Gates',
    'string',
    'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates',
    1,
  ),
];

export const SERVICE_COLUMNS: readonly ColumnDefinition[] = [
  nameColumn(),
  col(
    'Type',
    'string',
    'type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is "None", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. "NodePort" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. "LoadBalancer" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. "ExternalName" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types',
  ),
  col(
    'Cluster-IP',
    'string',
    'clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are "None", empty string (""), or a valid IP address. Setting this to "None" makes a "headless service" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies',
  ),
  col(
    'External-IP',
    'string',
    'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.',
  ),
  col(
    'Port(s)',
    'string',
    'The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies',
  ),
  ageColumn(),
  col(
    'Selector',
    'string',
    'Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/',
    1,
  ),
];

export const CONFIG_MAP_COLUMNS: readonly ColumnDefinition[] = [
  nameColumn(),
  col(
    'Data',
    'string',
    "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
  ),
  ageColumn(),
];

export const SECRET_COLUMNS: readonly ColumnDefinition[] = [
  nameColumn(),
  col(
    'Type',
    'string',
    'Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types',
  ),
  col(
    'Data',
    'string',
    "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
  ),
  ageColumn(),
];

export const SERVICE_ACCOUNT_COLUMNS: readonly ColumnDefinition[] = [
  nameColumn(),
  col(
    'Secrets',
    'string',
    'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a "kubernetes.io/enforce-mountable-secrets" annotation set to "true". This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret',
  ),
  ageColumn(),
];

export const NAMESPACE_COLUMNS: readonly ColumnDefinition[] = [
  nameColumn(),
  col('Status', 'string', 'The status of the namespace'),
  ageColumn(),
];

/** core/v1 and events.k8s.io/v1 Events print alike (kube prints the internal Event). */
export const EVENT_COLUMNS: readonly ColumnDefinition[] = [
  col('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
  col('Type', 'string', 'Type of this event (Normal, Warning), new types could be added in the future'),
  col(
    'Reason',
    'string',
    "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
  ),
  col('Object', 'string', 'The object that this event is about.'),
  col(
    'Subobject',
    'string',
    'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: "spec.containers{name}" (where "name" refers to the name of the container that triggered the event) or if no container name is specified "spec.containers[2]" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.',
    1,
  ),
  col(
    'Source',
    'string',
    'The component reporting this event. Should be a short machine understandable string.',
    1,
  ),
  col('Message', 'string', 'A human-readable description of the status of this operation.'),
  col(
    'First Seen',
    'string',
    'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)',
    1,
  ),
  col('Count', 'string', 'The number of times this event has occurred.', 1),
  col('Name', 'string', NAME_DESCRIPTION, 1, 'name'),
];

export const LEASE_COLUMNS: readonly ColumnDefinition[] = [
  nameColumn(),
  col('Holder', 'string', 'holderIdentity contains the identity of the holder of a current lease.'),
  ageColumn(),
];

export const ENDPOINT_SLICE_COLUMNS: readonly ColumnDefinition[] = [
  nameColumn(),
  col(
    'AddressType',
    'string',
    'addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name.',
  ),
  col(
    'Ports',
    'string',
    'ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates "all ports". Each slice may include a maximum of 100 ports.',
  ),
  col(
    'Endpoints',
    'string',
    'endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.',
  ),
  ageColumn(),
];

export const ENDPOINTS_COLUMNS: readonly ColumnDefinition[] = [
  nameColumn(),
  col(
    'Endpoints',
    'string',
    'The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.',
  ),
  ageColumn(),
];

const NODE_ADDRESSES_DESCRIPTION =
  'List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/concepts/nodes/node/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See http://pr.k8s.io/79391 for an example.';

export const NODE_COLUMNS: readonly ColumnDefinition[] = [
  nameColumn(),
  col('Status', 'string', 'The status of the node'),
  col('Roles', 'string', 'The roles of the node'),
  ageColumn(),
  col('Version', 'string', 'Kubelet Version reported by the node.'),
  col('Internal-IP', 'string', NODE_ADDRESSES_DESCRIPTION, 1),
  col('External-IP', 'string', NODE_ADDRESSES_DESCRIPTION, 1),
  col(
    'OS-Image',
    'string',
    'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
    1,
  ),
  col(
    'Kernel-Version',
    'string',
    "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
    1,
  ),
  col(
    'Container-Runtime',
    'string',
    'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
    1,
  ),
];

export const HPA_COLUMNS: readonly ColumnDefinition[] = [
  nameColumn(),
  col(
    'Reference',
    'string',
    'scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.',
  ),
  col(
    'Targets',
    'string',
    'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond.',
  ),
  col(
    'MinPods',
    'string',
    'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.',
  ),
  col(
    'MaxPods',
    'string',
    'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.',
  ),
  col(
    'Replicas',
    'string',
    'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.',
  ),
  ageColumn(),
];

/** rest.NewDefaultTableConvertor: resources without a printer (CustomResourceDefinitions among them). */
export const DEFAULT_COLUMNS: readonly ColumnDefinition[] = [
  nameColumn(),
  col('Created At', 'date', CREATION_TIMESTAMP_DESCRIPTION),
];
