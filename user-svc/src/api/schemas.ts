import { Type, type Static } from 'typebox';

// The HTTP surface of user-svc, one TypeBox schema per shape: validation, the TypeScript types
// of the handlers and the OpenAPI document all come from these.

const Username = Type.String({ minLength: 3, maxLength: 32, pattern: '^[A-Za-z0-9_.-]+$', description: 'Letters, digits, _ . -' });
const Email = Type.String({ format: 'email', maxLength: 254 });
const Password = Type.String({ minLength: 8, maxLength: 128, writeOnly: true });
const FullName = Type.String({ minLength: 1, maxLength: 200 });

export const RegisterBody = Type.Object(
  { username: Username, email: Email, password: Password, fullName: Type.Optional(FullName) },
  { additionalProperties: false },
);

export const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 254, description: 'Username or email' }),
    password: Type.String({ minLength: 1, maxLength: 128 }),
  },
  { additionalProperties: false },
);

export const UpdateMeBody = Type.Object(
  {
    email: Type.Optional(Email),
    fullName: Type.Optional(Type.Union([FullName, Type.Null()])),
    password: Type.Optional(Password),
    currentPassword: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, writeOnly: true, description: 'Required to change the email or the password' }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const User = Type.Object({
  id: Type.String({ format: 'uuid' }),
  username: Type.String(),
  email: Type.String(),
  fullName: Type.Union([Type.String(), Type.Null()]),
  role: Type.Enum(['customer', 'admin']),
  disabled: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
});
export type User = Static<typeof User>;

export const UserParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const UserSearchQuery = Type.Object(
  {
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Part of a username, email or full name (any case)' })),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const UserPage = Type.Object({ items: Type.Array(User), nextCursor: Type.Union([Type.String(), Type.Null()]) });

export const AccessToken = Type.Object({
  accessToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'Seconds until the token expires' }),
});

export const SigningKey = Type.Object({ kid: Type.String(), createdAt: Type.String({ format: 'date-time' }) });

export const Jwks = Type.Object({
  keys: Type.Array(
    Type.Object({
      kty: Type.String(),
      crv: Type.String(),
      x: Type.String(),
      y: Type.String(),
      kid: Type.String(),
      alg: Type.String(),
      use: Type.String(),
    }),
  ),
});
