// The SMTP side: one mail handed to the server, over one pooled connection that is closed
// when the service stops. Mails go out one at a time, each in its own transaction.
import { createTransport } from 'nodemailer';

export interface OutgoingMail {
  to: { name: string; address: string };
  subject: string;
  text: string;
  /** The Message-ID header, `<id@domain>`: the same for every attempt of one notification. */
  messageId: string;
}

export interface Mailer {
  /** Resolves once the server accepted the mail (250 after DATA); rejects with nodemailer's error otherwise. */
  send(mail: OutgoingMail): Promise<void>;
  /** Closes the pooled connection. */
  close(): void;
}

export interface SmtpSettings {
  host: string;
  port: number;
  from: string;
}

export function smtpMailer({ host, port, from }: SmtpSettings): Mailer {
  const transport = createTransport({
    host,
    port,
    secure: false,
    // One connection kept open and reused: a new connection (greeting, EHLO) per mail capped
    // the sender at about 9 mails/s, fewer than the shop confirms orders at load. One is
    // enough: the sender sends one mail at a time.
    pool: true,
    maxConnections: 1,
    // A stuck server must not hold a notification's row lock for long: give up and retry later.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  return {
    async send(mail) {
      await transport.sendMail({ from, to: mail.to, subject: mail.subject, text: mail.text, messageId: mail.messageId });
    },
    close() {
      transport.close();
    },
  };
}
