'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { instructorApi } from './api';

// The signed-in instructor; anyone else is sent to the sign-in page.
export function useInstructor() {
  const router = useRouter();
  const [instructor, setInstructor] = useState<{ name: string; isAdmin: boolean } | null>(null);
  useEffect(() => {
    void instructorApi.me().then((me) => (me ? setInstructor(me) : router.replace('/instructor/login')));
  }, [router]);
  return instructor;
}
