// The SMTP side: a mail handed to the server, over a pool of connections (one per mail the
// sender sends at once) that is closed when the service stops.
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
  /** Mails sent at once: the pool's connections. */
  connections: number;
}

export function smtpMailer({ host, port, from, connections }: SmtpSettings): Mailer {
  const transport = createTransport({
    host,
    port,
    secure: false,
    // Connections kept open and reused: a new connection (greeting, EHLO) per mail capped the
    // sender at about 9 mails/s, fewer than the shop confirms orders at load.
    pool: true,
    maxConnections: connections,
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
