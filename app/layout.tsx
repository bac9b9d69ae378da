import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import SiteHeader from '../components/SiteHeader';
import WorkshopBanner from '../components/Workshop/WorkshopBanner';
import { themeScript } from '../components/ThemeToggle/theme';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'Life of a Packet — wirelab', template: '%s — wirelab' },
  description: 'A hands-on course on Linux kernel networking: follow a packet from the NIC to userspace, in real lab sandboxes.',
};

export const viewport: Viewport = {
  themeColor: [
    { media: '(prefers-color-scheme: light)', color: '#ffffff' },
    { media: '(prefers-color-scheme: dark)', color: '#0d1117' },
  ],
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    // The theme script sets data-theme before React hydrates; React must not complain about it.
    <html lang="en" suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: themeScript }} />
      </head>
      <body>
        <SiteHeader />
        <WorkshopBanner />
        {children}
      </body>
    </html>
  );
}
