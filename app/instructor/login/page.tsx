import type { Metadata } from 'next';
import SignInForm from '../../../components/Instructor/SignInForm';
import styles from '../../../components/Instructor/Instructor.module.css';

export const metadata: Metadata = { title: 'Instructor sign-in' };

export default function InstructorLogin() {
  return (
    <main id="main" className={styles.narrow}>
      <p className="kicker">Instructors</p>
      <h1>Sign in</h1>
      <SignInForm />
    </main>
  );
}
