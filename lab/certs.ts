import selfsigned from 'selfsigned';

/** A self-signed certificate for the lab's HTTPS backend, valid for `days` from now (pure JS: no openssl needed). */
export async function labCertificate(cn: string, days: number): Promise<{ cert: string; key: string }> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + days * 86_400_000);
  const pems = await selfsigned.generate([{ name: 'commonName', value: cn }], {
    keySize: 2048,
    notBeforeDate,
    notAfterDate,
    algorithm: 'sha256',
  });
  return { cert: pems.cert, key: pems.private };
}
