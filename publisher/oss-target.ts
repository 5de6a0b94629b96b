// Publishing to Aliyun OSS through ali-oss (V1 signatures, its default), one PutObject per changed file.
import { createHash } from 'node:crypto';
import OSS from 'ali-oss';
import { checkSitePath, type PublishedFile, type PublishTarget } from './publish-target.js';

/** Where and as whom to upload. The credentials come from the secrets, never the config file. */
export interface OssTargetOptions {
  readonly bucket: string;
  readonly region: string | undefined;
  readonly endpoint: string | undefined;
  readonly cname: boolean;
  /** Key prefix ("" or ending in "/"). */
  readonly prefix: string;
  readonly timeoutMs: number;
  readonly accessKeyId: string;
  readonly accessKeySecret: string;
}

/**
 * Puts each file as `<prefix><path>` with its content type, cache control and a Content-MD5 (so
 * OSS refuses a body damaged on the way). ali-oss's own retries are off: the publisher retries,
 * with a bound and a log line per failure.
 */
export class OssTarget implements PublishTarget {
  readonly #client: OSS;
  readonly #prefix: string;
  readonly description: string;

  constructor(options: OssTargetOptions) {
    this.#client = new OSS({
      bucket: options.bucket,
      accessKeyId: options.accessKeyId,
      accessKeySecret: options.accessKeySecret,
      timeout: options.timeoutMs,
      cname: options.cname,
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
      ...(options.endpoint?.startsWith('https:') === true ? { secure: true } : {}),
    });
    this.#prefix = options.prefix;
    this.description = `oss bucket ${options.bucket}${options.prefix === '' ? '' : ` under ${options.prefix}`}`;
  }

  async put(file: PublishedFile): Promise<void> {
    checkSitePath(file.path);
    const body = Buffer.from(file.body.buffer, file.body.byteOffset, file.body.byteLength);
    const result = await this.#client.put(`${this.#prefix}${file.path}`, body, {
      mime: file.contentType,
      headers: {
        'Content-Type': file.contentType,
        'Cache-Control': file.cacheControl,
        'Content-MD5': createHash('md5').update(body).digest('base64'),
      },
    });
    const status = result.res.status;
    if (status < 200 || status >= 300) throw new Error(`OSS answered ${status} for ${file.path}`);
  }
}
