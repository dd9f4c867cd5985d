// The one protobuf message the sandbox sends: a metav1.Status inside kube's protobuf envelope
// ("k8s\0" + runtime.Unknown), for clients that accept only application/vnd.kubernetes.protobuf.

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function bytesField(field: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2, ...varint(data.length)]), data]);
}

const str = (field: number, s: string): Buffer => bytesField(field, Buffer.from(s, 'utf8'));

export interface StatusFields {
  status: string;
  message: string;
  reason: string;
  code: number;
}

/** Encodes a Status (field numbers of k8s.io/apimachinery/pkg/apis/meta/v1 generated.proto). */
export function protobufStatus(s: StatusFields): Buffer {
  const listMeta = Buffer.concat([str(1, ''), str(2, ''), str(3, '')]);
  const status = Buffer.concat([
    bytesField(1, listMeta),
    str(2, s.status),
    str(3, s.message),
    str(4, s.reason),
    Buffer.from([6 << 3, ...varint(s.code)]),
  ]);
  const typeMeta = Buffer.concat([str(1, 'v1'), str(2, 'Status')]);
  const unknown = Buffer.concat([bytesField(1, typeMeta), bytesField(2, status), str(3, ''), str(4, '')]);
  return Buffer.concat([Buffer.from('k8s\0', 'binary'), unknown]);
}
