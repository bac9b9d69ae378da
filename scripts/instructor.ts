// `npm run instructor -- <command>`: instructor accounts, in the database the server uses
// (WIRELAB_DB or WIRELAB_DATA_DIR, as for `npm start`). Safe to run while the server runs.
//   add <name> [--admin]     creates an account and prints its generated password, once
//   list                     names, admin flags and creation dates
//   remove <name>            deletes the account (its workshops stay, for admins and their grades)
//   reset-password <name>    prints a new generated password and signs the instructor out everywhere
import { loadConfig } from '../server/config.ts';
import { openDatabase } from '../server/db/database.ts';
import { InstructorStore } from '../server/db/instructors.ts';
import { generatePassword, hashPassword } from '../server/workshops/password.ts';

const NAME = /^[A-Za-z0-9._-]{1,40}$/;
const USAGE = 'usage: npm run instructor -- add <name> [--admin] | list | remove <name> | reset-password <name>';

function fail(message: string): never {
  console.error(`wirelab instructor: ${message}`);
  process.exit(1);
}

const [command, name, ...flags] = process.argv.slice(2);
if (!command) fail(USAGE);
if (command !== 'list' && (!name || !NAME.test(name))) fail(`${name ? `"${name}" is not a usable name: use 1 to 40 letters, digits, dots, dashes or underscores` : 'name the instructor'}.\n${USAGE}`);
const unknownFlags = flags.filter((flag) => !(command === 'add' && flag === '--admin'));
if (unknownFlags.length) fail(`unknown option ${unknownFlags.join(' ')}.\n${USAGE}`);

const db = openDatabase(loadConfig().databasePath);
const instructors = new InstructorStore(db);
try {
  if (command === 'add') {
    if (instructors.byName(name)) fail(`there is already an instructor called ${name}: use reset-password to give them a new password.`);
    const password = generatePassword();
    instructors.add(name, await hashPassword(password), flags.includes('--admin'));
    console.log(`Instructor ${name}${flags.includes('--admin') ? ' (admin: sees every workshop)' : ''} created. Password, shown this once:\n\n  ${password}\n\nSign in at /instructor/login.`);
  } else if (command === 'list') {
    const all = instructors.list();
    if (all.length === 0) console.log('No instructors yet: npm run instructor -- add <name>');
    for (const instructor of all) console.log(`${instructor.name.padEnd(40)} ${instructor.isAdmin ? 'admin' : '     '}  since ${instructor.createdAt.slice(0, 10)}`);
  } else if (command === 'remove') {
    if (!instructors.remove(name)) fail(`there is no instructor called ${name}.`);
    console.log(`Instructor ${name} removed; their workshops stay, for admins and for their grades.`);
  } else if (command === 'reset-password') {
    const password = generatePassword();
    if (!instructors.setPassword(name, await hashPassword(password))) fail(`there is no instructor called ${name}.`);
    console.log(`New password for ${name}, shown this once (they are signed out everywhere):\n\n  ${password}\n`);
  } else {
    fail(`unknown command "${command}".\n${USAGE}`);
  }
} finally {
  db.close();
}
