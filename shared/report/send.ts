/**
 * Sending through SES v2: one SendEmail with Content.Simple (subject, HTML and text bodies)
 * and the CSV as an attachment.
 *
 * The caller makes the client once per process with createSesClient(): at module scope in the
 * Lambda handler (functions/report/index.ts), so a warm container reuses it. Region,
 * credentials and endpoint follow the SDK's standard settings, which it reads itself (when it
 * first sends, not when it is made): AWS_REGION, the credential chain, and
 * AWS_ENDPOINT_URL_SESV2 / AWS_ENDPOINT_URL to point it at a local emulator (aws-ses-v2-local
 * in the tests).
 */
import { SESv2Client, type SESv2ClientConfig, SendEmailCommand } from '@aws-sdk/client-sesv2';

export function createSesClient(config: SESv2ClientConfig = {}): SESv2Client {
  return new SESv2Client(config);
}

export interface EmailMessage {
  readonly sender: string;
  readonly recipients: readonly string[];
  readonly subject: string;
  readonly html: string;
  readonly text: string;
  readonly attachment?: { readonly fileName: string; readonly content: string; readonly contentType: string };
}

/** SES subjects are 7-bit ASCII; anything else goes as an RFC 2047 encoded word. */
export function encodeSubject(subject: string): string {
  if (/^[\x20-\x7e]*$/.test(subject)) return subject;
  return `=?UTF-8?B?${Buffer.from(subject, 'utf8').toString('base64')}?=`;
}

/** Sends one email; returns SES's MessageId. */
export async function sendEmail(client: SESv2Client, message: EmailMessage): Promise<string> {
  if (message.recipients.length === 0) throw new Error('the report has no recipients');
  const result = await client.send(
    new SendEmailCommand({
      FromEmailAddress: message.sender,
      Destination: { ToAddresses: [...message.recipients] },
      Content: {
        Simple: {
          Subject: { Data: encodeSubject(message.subject), Charset: 'UTF-8' },
          Body: {
            Html: { Data: message.html, Charset: 'UTF-8' },
            Text: { Data: message.text, Charset: 'UTF-8' },
          },
          Attachments: message.attachment
            ? [
                {
                  FileName: message.attachment.fileName,
                  // The SDK base64-encodes the bytes on the wire.
                  RawContent: Buffer.from(message.attachment.content, 'utf8'),
                  ContentType: message.attachment.contentType,
                  ContentDisposition: 'ATTACHMENT',
                },
              ]
            : undefined,
        },
      },
    }),
  );
  if (!result.MessageId) throw new Error('SES accepted the email but returned no MessageId');
  return result.MessageId;
}
