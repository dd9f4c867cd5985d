// ObjectMeta's JSON fields (v1.26) in Go's struct order: the order the server serializes metadata in, and the
// only keys structural pruning keeps under metadata.

export const objectMetaFields: readonly string[] = [
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
];
